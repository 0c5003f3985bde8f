package netdelay

import (
	"os"
	"syscall"
	"time"
	"unsafe"
)

// A sleeper waits with the kernel's timer precision, some tens of
// microseconds: a timerfd that the runtime's network poller watches. The
// runtime's own timers wait whole milliseconds when the process is idle
// (it polls the network in milliseconds), which would turn a 0.2 ms link
// into a 2 ms one; a blocking nanosleep would hold a P until the runtime
// took it back, stalling the goroutines the link is meant to delay.
type sleeper struct {
	file *os.File
	fd   uintptr // the timerfd; not file.Fd(), which would make reads block a thread
}

// Values from <sys/timerfd.h>; package syscall has the system call
// numbers but not these.
const (
	clockMonotonic = 1
	tfdNonblock    = syscall.O_NONBLOCK
	tfdCloexec     = syscall.O_CLOEXEC
)

func newSleeper() sleeper {
	fd, _, errno := syscall.Syscall(syscall.SYS_TIMERFD_CREATE, clockMonotonic, tfdNonblock|tfdCloexec, 0)
	if errno != 0 {
		return sleeper{} // time.Sleep, coarser
	}
	return sleeper{os.NewFile(fd, "netdelay-timer"), fd}
}

func (s sleeper) sleep(d time.Duration) {
	if d <= 0 {
		return
	}
	if s.file == nil {
		time.Sleep(d)
		return
	}
	spec := struct{ interval, value syscall.Timespec }{value: syscall.NsecToTimespec(int64(d))}
	if _, _, errno := syscall.Syscall6(syscall.SYS_TIMERFD_SETTIME, s.fd, 0, uintptr(unsafe.Pointer(&spec)), 0, 0, 0); errno != 0 {
		time.Sleep(d)
		return
	}
	var expirations [8]byte
	if _, err := s.file.Read(expirations[:]); err != nil {
		time.Sleep(d)
	}
}

func (s sleeper) close() {
	if s.file != nil {
		s.file.Close()
	}
}
