"""The gRPC layer: request → one core call → response (see service.py); app.py builds and runs the server."""
