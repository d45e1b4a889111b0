"""examples/with_rpc: a Hello service on gRPC (with the standard health service) and GET /v1/hello/:name through
the HTTP-to-gRPC transcoder, in one process."""
