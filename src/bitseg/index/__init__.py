"""The data of one customer universe: id translation, fields, purchase lines, time views, and the executor."""
