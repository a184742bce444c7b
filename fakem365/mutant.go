package fakem365

import (
	"errors"

	"github.com/m365snow/m365snow/internal/oidckeys"
)

// Mutant names a deliberately broken variant of the reference connector.
// The conformance checks (contracttest and the vendor-mode suite) prove
// their power by failing every one of them (docs/vendor-mode.md, "Mutation
// testing"). Only tests set Options.Mutant: no binary has a flag for it
// (TestNoBinaryReachesAMutant holds that).
type Mutant string

// The mutants, each a single broken rule of CONTRACT.md.
const (
	// MutantNoAudienceCheck accepts tokens for any audience.
	MutantNoAudienceCheck Mutant = "no-audience-check"
	// MutantNoIssuerCheck accepts tokens whatever their issuer.
	MutantNoIssuerCheck Mutant = "no-issuer-check"
	// MutantNoSignatureCheck accepts tokens whose signature does not verify.
	MutantNoSignatureCheck Mutant = "no-signature-check"
	// MutantAnyTenantAdmin lets an administrator of one tenant manage another.
	MutantAnyTenantAdmin Mutant = "any-tenant-admin"
	// MutantNeverRefreshes never uses the refresh grant: it keeps its access
	// token until the instance refuses it, then signs in with the password.
	MutantNeverRefreshes Mutant = "never-refreshes"
	// MutantBasicWhenAAD calls an AAD Auth instance with ServiceNow OAuth.
	MutantBasicWhenAAD Mutant = "basic-when-aad"
	// MutantNoCaseNumber answers a new case without its caseNumber.
	MutantNoCaseNumber Mutant = "no-case-number"
	// MutantForbiddenUnknownRepository answers 403 instead of 404 for a
	// repository that is not saved.
	MutantForbiddenUnknownRepository Mutant = "403-for-unknown-repository"
	// MutantNoInboundTestOnSave saves repository settings without testing
	// them against the instance.
	MutantNoInboundTestOnSave Mutant = "no-inbound-test-on-save"
	// MutantLosesPendingLinks forgets a case whose link into the instance
	// failed instead of retrying it.
	MutantLosesPendingLinks Mutant = "loses-pending-links"
	// MutantHandshakeIgnoresOutboundAppID accepts a handshake whose
	// outboundAppId is not the calling application.
	MutantHandshakeIgnoresOutboundAppID Mutant = "handshake-ignores-outbound-app-id"
)

// Mutants lists every mutant, in the order docs/vendor-mode.md shows them.
var Mutants = []Mutant{MutantNoAudienceCheck, MutantNoIssuerCheck, MutantNoSignatureCheck, MutantAnyTenantAdmin,
	MutantNeverRefreshes, MutantBasicWhenAAD, MutantNoCaseNumber, MutantForbiddenUnknownRepository,
	MutantNoInboundTestOnSave, MutantLosesPendingLinks, MutantHandshakeIgnoresOutboundAppID}

// skipsTokenCheck says whether the mutant ignores a failed token check.
func (m Mutant) skipsTokenCheck(err error) bool {
	var f *oidckeys.Failure
	if !errors.As(err, &f) {
		return false
	}
	switch m {
	case MutantNoAudienceCheck:
		return f.Check == oidckeys.CheckAudience
	case MutantNoIssuerCheck:
		return f.Check == oidckeys.CheckIssuer
	case MutantNoSignatureCheck:
		return f.Check == oidckeys.CheckSignature
	}
	return false
}
