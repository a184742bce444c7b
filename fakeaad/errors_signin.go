package fakeaad

import (
	"fmt"
	"time"
)

// The errors of user sign-in: the password, refresh-token, authorization
// code, device code and on-behalf-of grants, the sign-in page and the
// blocked states. Codes and wording follow Microsoft's AADSTS reference
// (MicrosoftDocs/azure-docs articles/active-directory/develop/
// reference-error-codes.md, cited in docs/fakeaad-endpoints.md); where the
// reference gives only a code name, the text is the one clients report.

func errGrantOnCommon() *stsError {
	return &stsError{400, "invalid_request", 9001023, "The grant type is not supported over the /common or /consumers endpoints. Please use the /organizations or tenant-specific endpoint."}
}

func errMalformedGrant() *stsError {
	return &stsError{400, "invalid_grant", 9002313, "Invalid request. Request is malformed or invalid."}
}

func errGrantClientMismatch() *stsError {
	return &stsError{400, "invalid_grant", 70000, "Provided grant is invalid or malformed."}
}

func errRefreshExpired(issued time.Time, inactive time.Duration) *stsError {
	return &stsError{400, "invalid_grant", 700082, fmt.Sprintf("The refresh token has expired due to inactivity. The token was issued on %s and was inactive for %s.",
		issued.UTC().Format("2006-01-02T15:04:05.0000000Z"), timeSpan(inactive))}
}

func errRefreshRevoked(issued, validFrom time.Time) *stsError {
	return &stsError{400, "invalid_grant", 50173, fmt.Sprintf("The provided grant has expired due to it being revoked, a fresh auth token is needed. The user might have changed or reset their password. The grant was issued on '%s' and the TokensValidFrom date (before which tokens are not valid) for this user is '%s'.",
		issued.UTC().Format("2006-01-02T15:04:05.0000000Z"), validFrom.UTC().Format("2006-01-02T15:04:05.0000000Z"))}
}

func errCodeRedeemed() *stsError {
	return &stsError{400, "invalid_grant", 54005, "OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token."}
}

func errCodeExpired() *stsError {
	return &stsError{400, "invalid_grant", 70008, "The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource."}
}

func errCodeVerifier() *stsError {
	return &stsError{400, "invalid_grant", 501481, "The Code_Verifier does not match the code_challenge supplied in the authorization request."}
}

func errReplyAddressMismatch(got, want string) *stsError {
	return &stsError{400, "invalid_grant", 500112, fmt.Sprintf("The reply address '%s' does not match the reply address '%s' provided when requesting Authorization code.", got, want)}
}

func errRedirectMismatch(uri, appID string) *stsError {
	return &stsError{400, "invalid_request", 50011, fmt.Sprintf("The redirect URI '%s' specified in the request does not match the redirect URIs configured for the application '%s'. Make sure the redirect URI sent in the request matches one added to your application in the Azure portal. Navigate to https://aka.ms/redirectUriMismatchError to learn more about how to fix this.", uri, appID)}
}

func errBadResponseType(rt string) *stsError {
	return &stsError{400, "unsupported_response_type", 70005, fmt.Sprintf("The provided value for the input parameter 'response_type' is not allowed for this request. Expected value: 'code' or 'id_token' or 'code id_token'. Received: '%s'.", rt)}
}

func errBadResponseMode(rm string) *stsError {
	return &stsError{400, "invalid_request", 70007, fmt.Sprintf("The provided value '%s' for the input parameter 'response_mode' is not supported. Use query, fragment or form_post.", rm)}
}

func errIDTokenNeedsOpenID() *stsError {
	return &stsError{400, "invalid_request", 70005, "response_type 'id_token' requires the 'openid' scope."}
}

func errNonceRequired() *stsError {
	return &stsError{400, "invalid_request", 900144, "The request body must contain the following parameter: 'nonce'."}
}

func errCodeChallengeMethod(m string) *stsError {
	return &stsError{400, "invalid_request", 501491, fmt.Sprintf("Invalid size of Code_Challenge parameter, or unsupported code_challenge_method '%s' (S256 or plain).", m)}
}

func errLoginRequired() *stsError {
	return &stsError{400, "login_required", 50058, "A silent sign-in request was sent but no user is signed in."}
}

func errSelectAccount() *stsError {
	return &stsError{400, "interaction_required", 16000, "Either multiple user identities are available for the current request or selected account is not supported for the scenario."}
}

func errLoginHintMismatch(hint string) *stsError {
	return &stsError{400, "interaction_required", 16000, fmt.Sprintf("The signed-in user does not match the login_hint '%s'.", hint)}
}

func errAppDisabled(appID, name string) *stsError {
	return &stsError{400, "unauthorized_client", 7000112, fmt.Sprintf("Application '%s'(%s) is disabled.", appID, name)}
}

func errMFARequired(resource string) *stsError {
	return &stsError{400, "invalid_grant", 50076, fmt.Sprintf("Due to a configuration change made by your administrator, or because you moved to a new location, you must use multi-factor authentication to access '%s'.", resource)}
}

func errCABlocked() *stsError {
	return &stsError{400, "invalid_grant", 53003, "Access has been blocked by Conditional Access policies. The access policy does not allow token issuance."}
}

func errPasswordExpired() *stsError {
	return &stsError{400, "invalid_grant", 50055, "The password is expired."}
}

func errConsentRequired(appID, name string) *stsError {
	return &stsError{400, "invalid_grant", 65001, fmt.Sprintf("The user or administrator has not consented to use the application with ID '%s' named '%s'. Send an interactive authorization request for this user and resource.", appID, name)}
}

func errConsentDeclined() *stsError {
	return &stsError{400, "access_denied", 65004, "User declined to consent to access the app."}
}

func errThrottled() *stsError {
	return &stsError{429, "invalid_request", 50196, "The server terminated an operation because it encountered a client request loop. Please contact your app vendor."}
}

func errAuthorizationPending() *stsError {
	return &stsError{400, "authorization_pending", 70016, "OAuth 2.0 device flow error. Authorization is pending. Continue polling."}
}

func errSlowDown() *stsError {
	return &stsError{400, "slow_down", 70016, "OAuth 2.0 device flow error. Polling faster than the interval the device code response gave; wait before polling again."}
}

func errDeviceCodeExpired() *stsError {
	return &stsError{400, "expired_token", 70019, "Verification code expired."}
}

func errDeviceDeclined() *stsError {
	return &stsError{400, "authorization_declined", 70000, "The end user denied the authorization request."}
}

func errBadDeviceCode() *stsError {
	return &stsError{400, "invalid_grant", 70000, "Provided grant is invalid or malformed."}
}

func errAssertionUnknownKey(thumb string) *stsError {
	return &stsError{401, "invalid_client", 700027, fmt.Sprintf("The certificate with identifier used to sign the client assertion is not registered on application. [Reason - The key was not found., Thumbprint of key used by client: '%s', Please visit the Azure Portal, Azure AD, App registrations to check whether the certificate is registered on the application.]", thumb)}
}

func errAssertionSignature() *stsError {
	return &stsError{401, "invalid_client", 700027, "Client assertion failed signature validation."}
}

func errAssertionTime(now, nbf, exp time.Time) *stsError {
	f := func(t time.Time) string { return t.UTC().Format("1/2/2006 3:04:05 PM") }
	return &stsError{401, "invalid_client", 700024, fmt.Sprintf("Client assertion is not within its valid time range. Current time: %s, assertion valid from %s, expiry time of assertion %s. Review the documentation at https://docs.microsoft.com/azure/active-directory/develop/active-directory-certificate-credentials .", f(now), f(nbf), f(exp))}
}

func errAssertionInvalid(reason string) *stsError {
	return &stsError{401, "invalid_client", 50027, "JWT token is invalid or malformed. " + reason}
}

func errAssertionSubject() *stsError {
	return &stsError{401, "invalid_client", 50048, "Subject mismatches Issuer claim in the client assertion."}
}

func errAssertionReplayed() *stsError {
	return &stsError{401, "invalid_client", 50027, "JWT token is invalid or malformed. The client assertion's jti was already used; send a new assertion."}
}

func errAssertionType(t string) *stsError {
	return &stsError{400, "invalid_request", 70002, fmt.Sprintf("The client_assertion_type '%s' is not supported; use urn:ietf:params:oauth:client-assertion-type:jwt-bearer.", t)}
}

func errUserAssertion(reason string) *stsError {
	return &stsError{400, "invalid_grant", 50013, "Assertion failed signature validation or is otherwise invalid. " + reason}
}

func errOBOTokenUse(v string) *stsError {
	return &stsError{400, "invalid_request", 900144, fmt.Sprintf("The request body must contain the following parameter: 'requested_token_use' with value 'on_behalf_of' (got '%s').", v)}
}

// timeSpan renders a duration as .NET's TimeSpan, d.hh:mm:ss, as Entra's
// messages print inactivity windows ("90.00:00:00").
func timeSpan(d time.Duration) string {
	days := int(d / (24 * time.Hour))
	d -= time.Duration(days) * 24 * time.Hour
	return fmt.Sprintf("%d.%02d:%02d:%02d", days, int(d/time.Hour), int(d%time.Hour/time.Minute), int(d%time.Minute/time.Second))
}

// signInErrorNames extend errorCodeNames for /error?code=.
var signInErrorNames = map[string]string{
	"16000":   "SelectUserAccount - choose an account; a silent request cannot.",
	"50011":   "InvalidReplyTo - the redirect URI is not registered on the app.",
	"50013":   "InvalidAssertion - the user assertion is invalid, expired or for another audience.",
	"50027":   "InvalidJwtToken - the client assertion is malformed, for another audience, or replayed.",
	"50048":   "SubjectMismatchesIssuer - iss and sub of the client assertion must both be the client id.",
	"50055":   "InvalidPasswordExpiredPassword - the password is expired.",
	"50058":   "UserInformationNotProvided - no signed-in session for a silent request.",
	"50076":   "UserStrongAuthClientAuthNRequired - multi-factor authentication is required.",
	"50173":   "FreshTokenNeeded - the grant was revoked, e.g. by a password change.",
	"50196":   "LoopDetected - too many identical requests; honour Retry-After.",
	"53003":   "BlockedByConditionalAccess - a Conditional Access policy blocks token issuance.",
	"54005":   "OAuth2 Authorization code was already redeemed.",
	"65001":   "DelegationDoesNotExist - the user or administrator has not consented.",
	"65004":   "UserDeclinedConsent - the user declined consent.",
	"70000":   "InvalidGrant - the grant is invalid, for another client, or declined.",
	"70002":   "InvalidClient - error validating the client credentials.",
	"70005":   "UnsupportedResponseType - the response type is not allowed.",
	"70007":   "UnsupportedResponseMode - the response mode is not supported.",
	"70008":   "ExpiredOrRevokedGrant - the authorization code expired.",
	"70016":   "AuthorizationPending - device flow: keep polling.",
	"70019":   "CodeExpired - device flow: the code expired.",
	"500112":  "The reply address does not match the one of the authorization request.",
	"501481":  "The code_verifier does not match the code_challenge.",
	"501491":  "InvalidCodeChallengeMethodInvalidSize - bad code_challenge or method.",
	"700024":  "Client assertion is not within its valid time range.",
	"700027":  "Client assertion failed signature validation, or its key is not registered.",
	"700082":  "ExpiredOrRevokedGrantInactiveToken - the refresh token expired.",
	"7000112": "UnauthorizedClientApplicationDisabled - the application is disabled.",
	"9001023": "The grant type is not supported over /common or /consumers.",
	"9002313": "InvalidRequest - request is malformed or invalid.",
}
