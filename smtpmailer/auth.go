package smtpmailer

import (
	"errors"
	"net/smtp"
)

// loginAuth is the LOGIN mechanism, which net/smtp lacks. Like its PLAIN,
// it refuses to send a password over a connection that is neither TLS nor
// to a loopback host.
type loginAuth struct {
	username, password, host string
	step                     int
}

func (a *loginAuth) Start(server *smtp.ServerInfo) (string, []byte, error) {
	if !server.TLS && !isLoopback(server.Name) {
		return "", nil, errors.New("unencrypted connection")
	}
	if server.Name != a.host {
		return "", nil, errors.New("wrong host name")
	}
	a.step = 0
	return "LOGIN", nil, nil
}

// Next answers the server's two challenges in the order LOGIN defines:
// the user name, then the password. Servers word the prompts differently
// ("Username:", "User Name"), so the order is what counts.
func (a *loginAuth) Next(_ []byte, more bool) ([]byte, error) {
	if !more {
		return nil, nil
	}
	a.step++
	switch a.step {
	case 1:
		return []byte(a.username), nil
	case 2:
		return []byte(a.password), nil
	}
	return nil, errors.New("unexpected third LOGIN challenge")
}
