package m365app

// Walked reads Setup as the instance holds it now, in the fixture's terms,
// or nil before the app has any settings. Tools that describe a running
// world (the sandbox) read this rather than the fixture they started from,
// so a world saved half-way through Setup describes itself as it is.
func (a *App) Walked() (*SetupFixture, error) {
	ctx, err := a.inst.App(Scope, a.inst.System())
	if err != nil {
		return nil, err
	}
	rows, err := ctx.Query(TableSettings, "")
	if err != nil || len(rows) == 0 {
		return nil, err
	}
	s := rows[0]
	v := a.values(ctx, s)
	str := func(k string) string { x, _ := v[k].(string); return x }
	st := &SetupFixture{
		Consent:            s["consent"] == "true",
		OutboundProfile:    str("outboundProfile"),
		RepositoryID:       s["repository_id"],
		HandshakeCompleted: s["handshake_completed"] == "true",
	}
	switch {
	case s["inbound_skipped"] == "true":
		st.Inbound = &InboundChoice{Skip: true}
	case str("inboundEntity") != "":
		st.Inbound = &InboundChoice{ExternalOIDC: s["external_oidc"] == "true", Entity: str("inboundEntity")}
	}
	switch {
	case s["integration_user_skipped"] == "true":
		st.IntegrationUser = &UserChoice{Skip: true}
	case str("integrationUser") != "":
		st.IntegrationUser = &UserChoice{User: str("integrationUser")}
	}
	if s["admin_email"] != "" {
		st.Settings = &SettingsChoice{SSO: s["sso"] == "true", AdminEmail: s["admin_email"], TestEnv: s["test_environment"] == "true"}
	}
	return st, nil
}
