// Package pubsubapi holds Salesforce's Pub/Sub API definition (pubsub_api.proto,
// package eventbus.v1, CC0) and, in eventbusv1, the Go code generated from it.
// Both the emulator's gRPC service and the client use the generated code.
package pubsubapi

//go:generate protoc -I proto --go_out=. --go_opt=paths=source_relative --go-grpc_out=. --go-grpc_opt=paths=source_relative eventbusv1/pubsub_api.proto
