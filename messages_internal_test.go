package invitations

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
)

func TestSubjectLine(t *testing.T) {
	for in, want := range map[string]string{
		"Ada invited you to join Acme":                "Ada invited you to join Acme",
		" Ada  invited\r\nyou\tto\u2028join\x00Acme ": "Ada invited you to join Acme",
		"": "",
	} {
		assert.Equal(t, want, subjectLine(in), "%q", in)
	}
	long := subjectLine(strings.Repeat("é", 500))
	assert.Equal(t, MaxSubjectLength, utf8.RuneCountInString(long))
	assert.True(t, strings.HasSuffix(long, "…"))
}
