package platform

import (
	"crypto/sha256"
	"encoding/base64"
)

// How password fields look from outside the platform (issue 11, defect 1).
//
// ServiceNow stores a "password" field (Password (1 Way Encrypted),
// sys_user.user_password) as a one-way hash and a "password2" field
// (Password (2 Way Encrypted), oauth_entity.client_secret) encrypted; only
// platform code decrypts password2 values. The fake keeps the clear values
// internally — fixtures and state export carry them, and sign-in compares
// them — but everything a request can observe goes through secretValue:
// what the Table API returns, and what encoded-query terms (sysparm_query,
// name=value parameters, ORDERBY, SAMEAS, dot-walks) are evaluated
// against. A query therefore matches exactly what a read would show, and
// STARTSWITH on a password tests a digest, not the password.
// docs/fidelity.md, "Security-relevant behaviour", gives the sources.

// passwordMask is what the Table API shows for a set password2 field.
const passwordMask = "********"

// secretValue is the outward value of field f of rec: for a password, a
// salted one-way digest (base64 SHA-256 of the record's sys_id and the
// value: equal passwords of two users do not look alike); for a password2,
// the mask. Other fields are returned as stored.
func secretValue(f *Field, rec Record) string {
	v := rec[f.Name]
	if v == "" {
		return ""
	}
	switch f.Type {
	case TypePassword:
		sum := sha256.Sum256([]byte(rec["sys_id"] + "\x00" + v))
		return base64.StdEncoding.EncodeToString(sum[:])
	case TypePassword2:
		return passwordMask
	}
	return v
}

func isSecret(f *Field) bool { return f.Type == TypePassword || f.Type == TypePassword2 }
