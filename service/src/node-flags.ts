// Node flags the service runs with: the image's CMD passes them (a test holds the Dockerfile
// to this list) and the benchmark starts the service with them. A stream server keeps
// thousands of long-lived sockets and allocates little per event, but a connection storm
// grows V8's young generation to tens of MB, which V8 then keeps: at 10,000 idle streams that
// was ≈ 10 KB of RSS per connection, more than everything else a stream holds. A 4 MB
// semi-space scavenges more often instead (docs/performance.md has the numbers both ways).
export const SERVICE_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=4'];
