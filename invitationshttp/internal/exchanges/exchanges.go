// Package exchanges records the requests the admin API's tests send and
// the answers they get, for invitationshttp/apitest to check against the
// OpenAPI description with a validator the library's module must not
// require. Recording is off unless the environment names a directory
// (Dir), so a plain test run writes nothing.
package exchanges

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// Dir is the environment variable naming the directory exchanges are
// recorded in, one file of JSON lines per test.
const Dir = "INVITATIONSHTTP_EXCHANGES"

// Exchange is one request to an admin handler and its answer.
type Exchange struct {
	// Test is the test that sent the request.
	Test string `json:"test"`
	// Method and Target are the request line (Target is the path the
	// handler saw, with its query).
	Method string `json:"method"`
	Target string `json:"target"`
	// RequestHeader and RequestBody are what the client sent; the body
	// only as far as the handler read it.
	RequestHeader http.Header `json:"request_header"`
	RequestBody   []byte      `json:"request_body"`
	// BodyRead is whether the handler read the request body to its end;
	// one refused before it was read (401, 403, 415) or cut off at the
	// size limit (413) was not.
	BodyRead bool `json:"body_read"`
	// Status, ResponseHeader and ResponseBody are the answer.
	Status         int         `json:"status"`
	ResponseHeader http.Header `json:"response_header"`
	ResponseBody   []byte      `json:"response_body"`
}

// Record returns h, recording every exchange it serves for t when the
// environment names a directory (Dir); otherwise h itself.
func Record(t testing.TB, h http.Handler) http.Handler {
	dir := os.Getenv(Dir)
	if dir == "" {
		return h
	}
	name := filepath.Join(dir, strings.NewReplacer("/", "__", string(filepath.Separator), "__").Replace(t.Name())+".jsonl")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e := Exchange{Test: t.Name(), Method: r.Method, Target: r.URL.RequestURI(), RequestHeader: r.Header.Clone(), Status: http.StatusOK}
		body := &teeBody{r: r.Body}
		if r.Body != nil && r.Body != http.NoBody {
			r.Body = body
		} else {
			body.eof = true
		}
		rw := &recorder{ResponseWriter: w, e: &e}
		h.ServeHTTP(rw, r)
		rw.snapshot()
		e.RequestBody, e.BodyRead, e.ResponseBody = body.read.Bytes(), body.eof, rw.body.Bytes()
		if err := appendTo(name, e); err != nil {
			t.Errorf("exchanges: recording %s %s: %v", e.Method, e.Target, err)
		}
	})
}

// teeBody keeps what the handler reads of a request body, and whether it
// read to the end; it reads nothing on its own, so a handler that must
// not read a body (one whose request it refuses) still reads none.
type teeBody struct {
	r    io.ReadCloser
	read bytes.Buffer
	eof  bool
}

func (b *teeBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	b.read.Write(p[:n])
	if errors.Is(err, io.EOF) {
		b.eof = true
	}
	return n, err
}

func (b *teeBody) Close() error { return b.r.Close() }

// recorder passes an answer through and keeps a copy.
type recorder struct {
	http.ResponseWriter
	e       *Exchange
	body    bytes.Buffer
	written bool
}

func (r *recorder) snapshot() {
	if !r.written {
		r.written = true
		r.e.ResponseHeader = r.Header().Clone()
	}
}

func (r *recorder) WriteHeader(status int) {
	if !r.written {
		r.e.Status = status
		r.snapshot()
	}
	r.ResponseWriter.WriteHeader(status)
}

func (r *recorder) Write(p []byte) (int, error) {
	r.snapshot()
	r.body.Write(p)
	return r.ResponseWriter.Write(p)
}

var mu sync.Mutex // one line at a time, from concurrent handlers

func appendTo(name string, e Exchange) error {
	line, err := json.Marshal(e)
	if err != nil {
		return err
	}
	mu.Lock()
	defer mu.Unlock()
	f, err := os.OpenFile(name, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(append(line, '\n')); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// Read returns every exchange recorded in dir, test by test, each test's
// in the order they were recorded.
func Read(dir string) ([]Exchange, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.jsonl"))
	if err != nil {
		return nil, err
	}
	var all []Exchange
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			return nil, err
		}
		lines := bufio.NewScanner(f)
		lines.Buffer(nil, 64<<20)
		for lines.Scan() {
			var e Exchange
			if err := json.Unmarshal(lines.Bytes(), &e); err != nil {
				f.Close()
				return nil, err
			}
			all = append(all, e)
		}
		f.Close()
		if err := lines.Err(); err != nil {
			return nil, err
		}
	}
	return all, nil
}
