"""Scale-out (SPEC §9): one index split by customer across N shards, each a Store of its own, combined by a
coordinator that the gRPC server holds instead of a Store. Ray is imported only by `rayshards`, and only when a
server starts with `--shards` on Ray; nothing here imports it at module level."""
