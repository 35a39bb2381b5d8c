"""The segment query language: text ──tokenize──▶ tokens ──parse──▶ tree ──bind/rewrite──▶ tree ──print──▶ text."""
