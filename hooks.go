package invitations

import (
	"context"
	"slices"
)

// The host's policy hooks (Config.IsMember, Config.Roles and
// Config.AccountName): the Service asks them, and wraps what they fail
// with so that a hook's own error never reads as the caller's bad input.

// hookError is an error a host's hook returned.
type hookError struct {
	hook string // the Config field's name
	err  error
}

func (e *hookError) Error() string { return "invitations: " + e.hook + ": " + e.err.Error() }
func (e *hookError) Unwrap() error { return e.err }

// hostAnswers asks the per-account hooks once per account within one
// call: InviteMany's rows of an account share the answers.
type hostAnswers struct {
	s     *Service
	roles map[string][]string
	names map[string]string
}

func (s *Service) answers() *hostAnswers { return &hostAnswers{s: s} }

// checkRoles refuses a role that Config.Roles does not list for the
// account; without the hook any role goes.
func (h *hostAnswers) checkRoles(ctx context.Context, accountID string, roles []string) error {
	if h.s.roles == nil {
		return nil
	}
	known, ok := h.roles[accountID]
	if !ok {
		var err error
		if known, err = h.s.roles(ctx, accountID); err != nil {
			return &hookError{"Roles", err}
		}
		if h.roles == nil {
			h.roles = make(map[string][]string)
		}
		h.roles[accountID] = known
	}
	for _, role := range roles {
		if !slices.Contains(known, role) {
			return inputError("roles", "names a role the account does not have")
		}
	}
	return nil
}

// accountName is the name mail and pages give inv's account.
func (h *hostAnswers) accountName(ctx context.Context, inv *Invitation) (string, error) {
	if h.s.accountName == nil {
		return inv.AccountName(), nil
	}
	if name, ok := h.names[inv.AccountID]; ok {
		return name, nil
	}
	name, err := h.s.accountName(ctx, inv.AccountID)
	if err != nil {
		return "", &hookError{"AccountName", err}
	}
	if name == "" {
		name = inv.AccountID
	}
	if h.names == nil {
		h.names = make(map[string]string)
	}
	h.names[inv.AccountID] = name
	return name, nil
}

// checkMember refuses the email of a member of the account, when the host
// said how to tell (Config.IsMember).
func (s *Service) checkMember(ctx context.Context, accountID, email string) error {
	member, err := s.member(ctx, accountID, email)
	if err != nil {
		return err
	}
	if member {
		return ErrAlreadyMember
	}
	return nil
}

// member asks Config.IsMember; without it nobody is a member yet.
func (s *Service) member(ctx context.Context, accountID, email string) (bool, error) {
	if s.isMember == nil {
		return false, nil
	}
	member, err := s.isMember(ctx, accountID, email)
	if err != nil {
		return false, &hookError{"IsMember", err}
	}
	return member, nil
}

// Roles returns the roles the account has, as Config.Roles says, for an
// admin form's role picker. It returns nil and no error when Config.Roles
// is not set: then any role is accepted. The account ID is compared as a
// string (see Config.Roles).
func (s *Service) Roles(ctx context.Context, accountID string) ([]string, error) {
	if err := checkAccountID(accountID); err != nil {
		return nil, err
	}
	if s.roles == nil {
		return nil, nil
	}
	roles, err := s.roles(ctx, accountID)
	if err != nil {
		return nil, &hookError{"Roles", err}
	}
	if roles == nil {
		return []string{}, nil
	}
	return slices.Clone(roles), nil
}

// AccountName is the name people see for inv's account, in mail and on
// the invitee's page: what Config.AccountName says now when it is set,
// else the invitation's "account_name" metadata, else its AccountID.
func (s *Service) AccountName(ctx context.Context, inv *Invitation) (string, error) {
	return s.answers().accountName(ctx, inv)
}
