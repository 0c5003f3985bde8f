package invitations

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits on invitation input. They keep a single invitation small and keep
// storage columns bounded.
const (
	MaxEmailLength    = 254 // bytes, RFC 5321 path limit
	MaxRoles          = 50
	MaxRoleLength     = 100 // bytes
	MaxNameLength     = 200 // bytes
	MaxIDLength       = 255 // bytes, for AccountID and InvitedBy
	MaxMetadataKeys   = 50
	MaxMetadataKey    = 64   // bytes
	MaxMetadataValue  = 1024 // bytes
	maxEmailLocalPart = 64
	maxDomainLabel    = 63
)

// NormalizeEmail validates an email address the way Invite does and returns
// its stored form: trimmed and lower-cased. It accepts one plain ASCII
// address (local@domain, no display name, no comments, no quoted local
// part); an internationalized domain must be given in its xn-- form. The
// domain needs at least one dot. Errors match ErrInvalidInput.
func NormalizeEmail(email string) (string, error) {
	email = strings.TrimSpace(email)
	switch {
	case email == "":
		return "", inputError("email", "is required")
	case len(email) > MaxEmailLength:
		return "", inputError("email", "is longer than 254 bytes")
	}
	at := strings.IndexByte(email, '@')
	if at < 0 || strings.IndexByte(email[at+1:], '@') >= 0 {
		return "", inputError("email", "must contain exactly one @")
	}
	if err := checkLocalPart(email[:at]); err != nil {
		return "", err
	}
	if err := checkDomain(email[at+1:]); err != nil {
		return "", err
	}
	return strings.ToLower(email), nil
}

// checkLocalPart accepts an RFC 5322 dot-atom: atext runs joined by dots.
func checkLocalPart(local string) error {
	if local == "" || len(local) > maxEmailLocalPart {
		return inputError("email", "local part must be 1 to 64 characters")
	}
	if local[0] == '.' || local[len(local)-1] == '.' || strings.Contains(local, "..") {
		return inputError("email", "local part has a misplaced dot")
	}
	for i := 0; i < len(local); i++ {
		if !isAtext(local[i]) && local[i] != '.' {
			return inputError("email", "local part may hold only letters, digits, dots and !#$%&'*+-/=?^_`{|}~")
		}
	}
	return nil
}

func isAtext(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		strings.IndexByte("!#$%&'*+-/=?^_`{|}~", c) >= 0
}

// checkDomain accepts LDH labels (letters, digits, hyphens; no hyphen at
// either end) joined by dots, at least two labels, and a top-level label
// that is not all digits.
func checkDomain(domain string) error {
	if !strings.Contains(domain, ".") {
		return inputError("email", "domain must contain a dot")
	}
	labels := strings.Split(domain, ".")
	for _, label := range labels {
		if label == "" || len(label) > maxDomainLabel {
			return inputError("email", "domain labels must be 1 to 63 characters")
		}
		if label[0] == '-' || label[len(label)-1] == '-' {
			return inputError("email", "domain labels may not start or end with a hyphen")
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-') {
				return inputError("email", "domain may hold only ASCII letters, digits and hyphens (use the xn-- form)")
			}
		}
	}
	if strings.Trim(labels[len(labels)-1], "0123456789") == "" {
		return inputError("email", "top-level domain may not be numeric")
	}
	return nil
}

// checkAccountID accepts an account ID as the host gave it, provided it
// cannot be confused with another: no surrounding spaces (" acme" would
// list nothing under "acme"), no control characters.
func checkAccountID(id string) error {
	if strings.TrimSpace(id) == "" {
		return inputError("account_id", "is required")
	}
	if strings.TrimSpace(id) != id {
		return inputError("account_id", "must not start or end with spaces")
	}
	return checkText("account_id", id, MaxIDLength, true)
}

// normalizeRoles trims each role, drops duplicates (keeping the first
// occurrence's order) and requires at least one.
func normalizeRoles(roles []string) ([]string, error) {
	if len(roles) == 0 {
		return nil, inputError("roles", "at least one role is required")
	}
	if len(roles) > MaxRoles {
		return nil, inputError("roles", "too many roles")
	}
	out := make([]string, 0, len(roles))
	for _, r := range roles {
		r = strings.TrimSpace(r)
		if err := checkText("roles", r, MaxRoleLength, true); err != nil {
			return nil, err
		}
		if !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	return out, nil
}

// checkText accepts valid UTF-8 without control characters, up to max bytes.
func checkText(field, s string, max int, required bool) error {
	switch {
	case s == "" && required:
		return inputError(field, "must not be empty")
	case len(s) > max:
		return inputError(field, "is too long")
	case !utf8.ValidString(s):
		return inputError(field, "is not valid UTF-8")
	case strings.IndexFunc(s, unicode.IsControl) >= 0:
		return inputError(field, "contains control characters")
	}
	return nil
}

func checkMetadata(md map[string]string) error {
	if len(md) > MaxMetadataKeys {
		return inputError("metadata", "too many keys")
	}
	for k, v := range md {
		if err := checkText("metadata", k, MaxMetadataKey, true); err != nil {
			return err
		}
		if err := checkText("metadata", v, MaxMetadataValue, false); err != nil {
			return err
		}
	}
	if tz := md[MetadataTimeZone]; tz != "" {
		if _, ok := zone(tz); !ok {
			return inputError("metadata", "time_zone is not a known IANA time zone")
		}
	}
	return nil
}
