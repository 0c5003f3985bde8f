// Package apitest checks that the admin API answers what its OpenAPI
// description says: its test runs the invitationshttp tests, records
// every request they send to an admin handler and every answer
// (invitationshttp/internal/exchanges), and validates each against the
// served /openapi.json with pb33f's libopenapi-validator, an OpenAPI 3.1
// validator written apart from this library.
//
// It is a module of its own so that the validator and its dependencies
// stay out of the module graph of anyone who imports the library; like
// the repository's other test-only modules, it is part of go.work.
package apitest
