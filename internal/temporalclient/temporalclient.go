// Package temporalclient holds how every fenqi process (worker, API,
// starter, bench) dials Temporal, so that they agree on the address, the
// namespace, the payload codec and the transport.
package temporalclient

import (
	"os"

	"go.temporal.io/sdk/client"

	"github.com/fenqi/fenqi/codec"
)

// DefaultAddress is the Temporal frontend `make run` starts.
const DefaultAddress = "127.0.0.1:7233"

// Address is TEMPORAL_ADDRESS, by default DefaultAddress.
func Address() string {
	if v := os.Getenv("TEMPORAL_ADDRESS"); v != "" {
		return v
	}
	return DefaultAddress
}

// Namespace is TEMPORAL_NAMESPACE, by default "default".
func Namespace() string {
	if v := os.Getenv("TEMPORAL_NAMESPACE"); v != "" {
		return v
	}
	return "default"
}

// Options are the client options for the Temporal of the environment
// (Address, Namespace) with the payload codec cdc. The caller adds its
// logger and metrics handler.
//
// Requests are not gzip-compressed (the SDK's default is to compress):
// every payload fenqi sends is encrypted by cdc, and ciphertext does not
// compress, so gzip only cost CPU on both ends. Measured with `starter
// bench` it was about 8% of the worker's CPU time, and as much again on
// the server, which answers a compressed request compressed.
func Options(cdc *codec.Codec) client.Options {
	return client.Options{
		HostPort:         Address(),
		Namespace:        Namespace(),
		DataConverter:    codec.DataConverter(cdc),
		FailureConverter: codec.FailureConverter(cdc),
		ConnectionOptions: client.ConnectionOptions{
			GrpcCompression: &client.GrpcCompressionNone{},
		},
	}
}
