package invitations_test

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/invitekit/invitations"
	"github.com/invitekit/invitations/invitationstest"
	"github.com/invitekit/invitations/memstore"
)

// benchWorld is a Service over a memstore seeded with n invitations in one
// account (the worst case for List), plus probes: pending invitations whose
// tokens the benchmarks use.
type benchWorld struct {
	svc         *invitations.Service
	store       *memstore.Store
	clock       *invitationstest.Clock
	ids         []uuid.UUID
	tokens      []string
	size        int
	bytesPerInv float64
	seq         int    // last email number used
	lastLink    string // of the last mail sent
	middle      string // List cursor half way down the account
}

const (
	benchAccount = "bench"
	probes       = 1024
)

// current is the one world kept alive: building the 1M one drops the 1k
// one, so that each size is measured on its own heap.
var (
	currentMu sync.Mutex
	current   *benchWorld
)

var benchSizes = []struct {
	name string
	n    int
}{{"stored=1k", 1_000}, {"stored=1M", 1_000_000}}

// world builds (once per size and process) the seeded Service.
func world(b *testing.B, n int) *benchWorld {
	currentMu.Lock()
	defer currentMu.Unlock()
	if current != nil && current.size == n {
		return current
	}
	current = nil
	w := &benchWorld{size: n, clock: invitationstest.NewClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))}
	mailer := invitations.MailerFunc(func(_ context.Context, m invitations.Message) error {
		w.lastLink = m.Link
		return nil
	})
	var err error
	w.store = memstore.New()
	w.svc, err = invitations.New(w.store, mailer, invitations.Config{
		Secret: []byte("benchmark secret, 32 bytes or more!!"), AcceptURL: "https://app.example.com/accept", Now: w.clock.Now,
	})
	if err != nil {
		b.Fatal(err)
	}
	before := heapInUse()
	for range n - probes {
		w.invite(b)
	}
	for range probes {
		w.ids = append(w.ids, w.invite(b).ID)
		w.tokens = append(w.tokens, w.token(b))
	}
	w.bytesPerInv = float64(heapInUse()-before) / float64(n)
	w.middle = w.cursorAt(b, n/2)
	current = w
	return w
}

func heapInUse() uint64 {
	var m runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

func (w *benchWorld) invite(b *testing.B) *invitations.Invitation {
	w.seq++
	w.clock.Advance(time.Microsecond)
	inv, err := w.svc.Invite(context.Background(), invitations.InviteInput{
		AccountID: benchAccount,
		Email:     "user" + strconv.Itoa(w.seq) + "@example.com",
		Name:      "Bench User",
		Roles:     []string{"member"},
		InvitedBy: "Admin Person",
	})
	if err != nil {
		b.Fatal(err)
	}
	return inv
}

func (w *benchWorld) token(b *testing.B) string {
	token, err := invitationstest.TokenFromLink(w.lastLink)
	if err != nil {
		b.Fatal(err)
	}
	return token
}

// cursorAt pages through the account to the cursor after row skip.
func (w *benchWorld) cursorAt(b *testing.B, skip int) string {
	q := invitations.ListQuery{AccountID: benchAccount, Limit: invitations.MaxPageSize}
	for skip > 0 {
		q.Limit = min(skip, invitations.MaxPageSize)
		page, err := w.svc.List(context.Background(), q)
		if err != nil {
			b.Fatal(err)
		}
		skip -= len(page.Invitations)
		q.After = page.Next
	}
	return q.After
}

// BenchmarkService runs every operation against a store of 1k, then of 1M
// invitations, with the baseline measured in the same process state: a 1M
// heap makes the garbage collector's share of every allocation larger.
func BenchmarkService(b *testing.B) {
	for _, size := range benchSizes {
		b.Run(size.name, func(b *testing.B) {
			w := world(b, size.n)
			for _, op := range []struct {
				name string
				fn   func(*testing.B, *benchWorld)
			}{
				// Invite runs last: it is the one that grows the store.
				{"Baseline", benchBaseline}, {"Lookup", benchLookup}, {"CopyLink", benchCopyLink},
				{"Resend", benchResend}, {"Accept", benchAccept}, {"List50", benchList},
				{"Memory", benchMemoryPerInvitation}, {"Invite", benchInvite},
			} {
				b.Run(op.name, func(b *testing.B) {
					b.ReportAllocs()
					op.fn(b, w)
				})
			}
		})
	}
}

// benchBaseline is the cryptographic work no implementation can avoid per
// link: 32 random bytes and one keyed hash.
func benchBaseline(b *testing.B, _ *benchWorld) {
	key := []byte("benchmark secret, 32 bytes or more!!")
	mac := hmac.New(sha256.New, key)
	var nonce, sum [32]byte
	for b.Loop() {
		_, _ = rand.Read(nonce[:])
		mac.Reset()
		mac.Write(nonce[:])
		mac.Sum(sum[:0])
	}
}

func benchInvite(b *testing.B, w *benchWorld) {
	for b.Loop() {
		w.invite(b)
	}
}

func benchResend(b *testing.B, w *benchWorld) {
	ctx := context.Background()
	i := 0
	for b.Loop() {
		if _, err := w.svc.Resend(ctx, benchAccount, w.ids[i%probes]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

func benchCopyLink(b *testing.B, w *benchWorld) {
	ctx := context.Background()
	i := 0
	for b.Loop() {
		if _, err := w.svc.CopyLink(ctx, benchAccount, w.ids[i%probes]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

func benchLookup(b *testing.B, w *benchWorld) {
	ctx := context.Background()
	i := 0
	for b.Loop() {
		if _, err := w.svc.Lookup(ctx, w.tokens[i%probes]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// benchAccept accepts the probe invitations in rounds; between rounds,
// untimed, it puts them back to pending through the store, so the store
// keeps its size and content whatever b.N is.
func benchAccept(b *testing.B, w *benchWorld) {
	ctx := context.Background()
	b.StopTimer()
	for done := 0; done < b.N; done += probes {
		round := min(probes, b.N-done)
		b.StartTimer()
		for _, token := range w.tokens[:round] {
			if _, err := w.svc.Accept(ctx, token); err != nil {
				b.Fatal(err)
			}
		}
		b.StopTimer()
		for _, id := range w.ids[:round] {
			inv, err := w.store.Get(ctx, benchAccount, id)
			if err != nil {
				b.Fatal(err)
			}
			inv.State, inv.AcceptedAt, inv.Version = invitations.StatusPending, time.Time{}, inv.Version+1
			if err := w.store.Update(ctx, inv, inv.Version-1, nil); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// benchList reads a 50-row page from the middle of the account, so the
// cursor seek is part of the cost.
func benchList(b *testing.B, w *benchWorld) {
	ctx := context.Background()
	q := invitations.ListQuery{AccountID: benchAccount, Limit: 50, After: w.middle}
	for b.Loop() {
		page, err := w.svc.List(ctx, q)
		if err != nil || len(page.Invitations) != 50 {
			b.Fatal(err, len(page.Invitations))
		}
	}
}

// benchMemoryPerInvitation reports the heap each stored invitation
// costs in memstore, measured while seeding.
func benchMemoryPerInvitation(b *testing.B, w *benchWorld) {
	for b.Loop() {
	}
	b.ReportMetric(w.bytesPerInv, "B/invitation")
}
