package invitations

import (
	"context"
	"fmt"

	"github.com/google/uuid"
)

// MaxInviteMany is the most rows one InviteMany call takes.
const MaxInviteMany = 1000

// InviteResult is what became of one row of InviteMany: the stored
// invitation, or the row's own error.
type InviteResult struct {
	Invitation *Invitation
	Err        error
}

// InviteMany invites many people at once, one result per input, in order.
// Each row succeeds or fails on its own, with the errors Invite gives
// (*InputError, *AlreadyInvitedError, ErrAlreadyMember); a row that names
// an email an earlier row of the same call already invited fails with an
// *AlreadyInvitedError naming that row's invitation. The call's own error
// is only for what fails every row: more than MaxInviteMany rows (an
// *InputError), a cancelled context, a store that is down.
//
// The mail of every stored row is recorded as due at once and sent by the
// next DeliverDue (or by Deliver), not inside the call: a thousand SMTP
// round trips have no place in a request. Rows with SkipMail get none. On
// sqlstore a call is a few statements, whatever the number of rows.
func (s *Service) InviteMany(ctx context.Context, in []InviteInput) ([]InviteResult, error) {
	if len(in) > MaxInviteMany {
		return nil, inputError("invitations", fmt.Sprintf("at most %d rows per call", MaxInviteMany))
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	results := make([]InviteResult, len(in))
	now := s.clock()
	seen := make(map[[2]string]uuid.UUID, len(in)) // account and email -> the row that invited it
	var batch []*Invitation
	var rows []int // batch[i] is the invitation of in[rows[i]]
	for i, row := range in {
		inv, _, err := s.newPending(ctx, row, now, false)
		if err == nil {
			key := [2]string{inv.AccountID, inv.Email}
			if id, dup := seen[key]; dup {
				err = &AlreadyInvitedError{ExistingID: id}
			} else {
				seen[key] = inv.ID
			}
		}
		if err != nil {
			if ctxErr := ctx.Err(); ctxErr != nil {
				return nil, ctxErr
			}
			results[i].Err = err
			continue
		}
		batch = append(batch, inv)
		rows = append(rows, i)
	}
	if len(batch) == 0 {
		return results, nil
	}
	rowErrs, err := s.store.CreateMany(ctx, batch)
	if err != nil {
		return nil, storeError(err)
	}
	if len(rowErrs) != len(batch) {
		return nil, fmt.Errorf("invitations: store: CreateMany returned %d results for %d invitations", len(rowErrs), len(batch))
	}
	for j, inv := range batch {
		i := rows[j]
		if rowErrs[j] != nil {
			results[i].Err = storeError(rowErrs[j])
			continue
		}
		s.emit(ctx, EventInvited, now, inv)
		results[i].Invitation = inv.withoutToken()
	}
	return results, nil
}
