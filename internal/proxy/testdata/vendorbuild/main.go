// Command vendorbuild stands for a vendor's unmodified build: it calls the
// real host names with Go's default transport and nothing else configured,
// so it reaches the fakes only through HTTPS_PROXY and trusts them only
// through SSL_CERT_FILE (both read by the standard library).
package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
)

func main() {
	tenant, appID, secret := os.Args[1], os.Args[2], os.Args[3]
	snowClient, snowSecret, user, password := os.Args[4], os.Args[5], os.Args[6], os.Args[7]
	get := func(endpoint string, form url.Values) map[string]any {
		resp, err := http.PostForm(endpoint, form)
		if err != nil {
			fmt.Println("error:", err)
			os.Exit(1)
		}
		defer resp.Body.Close()
		var body map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || resp.StatusCode != 200 {
			fmt.Println("error:", endpoint, resp.Status, body, err)
			os.Exit(1)
		}
		return body
	}
	aad := get("https://login.microsoftonline.com/"+tenant+"/oauth2/v2.0/token", url.Values{
		"grant_type": {"client_credentials"}, "client_id": {appID}, "client_secret": {secret},
		"scope": {"https://connector.rave.microsoft.com/.default"},
	})
	snow := get("https://dev12345.service-now.com/oauth_token.do", url.Values{
		"grant_type": {"password"}, "client_id": {snowClient}, "client_secret": {snowSecret},
		"username": {user}, "password": {password},
	})
	fmt.Println("aad token:", strings.Count(aad["access_token"].(string), "."), "dots")
	fmt.Println("snow token:", snow["token_type"])
}
