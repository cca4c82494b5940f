// Package pytest checks the emulator's Pub/Sub API with a second
// independent client: Python stubs generated from pubsub_api.proto by
// protoc and grpc_python_plugin when the test runs, and the Apache Avro
// library, using Debian's packages (python3-grpcio, python3-protobuf,
// python3-avro, protobuf-compiler, protobuf-compiler-grpc). The test skips
// loudly when any is missing; CI runs the npm client (../npmtest) instead.
package pytest
