// Same program as server/main.go in etcd v3.6.16, built as an external main
// module so it can be fetched from the Go module proxy.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
