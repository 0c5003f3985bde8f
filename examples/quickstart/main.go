// Command quickstart walks through the whole invitation story on the
// in-memory store, with a fake clock to jump through the seven days:
//
//	go run ./examples/quickstart
package main

import (
	"log"
	"os"

	"github.com/invitekit/invitations/examples/internal/story"
	"github.com/invitekit/invitations/memstore"
)

func main() {
	if err := story.Run(os.Stdout, memstore.New(), "acme", nil); err != nil {
		log.Fatal(err)
	}
}
