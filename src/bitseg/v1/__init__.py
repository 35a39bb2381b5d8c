"""Generated gRPC stubs of proto/bitseg/v1 (scripts/gen_proto.sh); do not edit."""
