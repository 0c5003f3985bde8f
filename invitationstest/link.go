package invitationstest

import (
	"errors"
	"fmt"
	"net/url"
)

// ErrSendFailed is what Mailer.Send returns for failures set by FailNext
// without an error of their own.
var ErrSendFailed = errors.New("invitationstest: send failed")

// ErrNoToken is returned by TokenFromLink for a link without a token.
var ErrNoToken = errors.New("invitationstest: link has no token")

// TokenFromLink returns the "token" query parameter of an invitation link,
// as the accept page would read it.
func TokenFromLink(link string) (string, error) {
	u, err := url.Parse(link)
	if err != nil {
		// url's error quotes the link, token and all: keep it out.
		return "", fmt.Errorf("%w: not a URL", ErrNoToken)
	}
	token := u.Query().Get("token")
	if token == "" {
		return "", ErrNoToken
	}
	return token, nil
}
