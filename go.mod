module github.com/m365snow/m365snow

go 1.26.0

require (
	github.com/AzureAD/microsoft-authentication-library-for-go v1.10.1
	github.com/coreos/go-oidc/v3 v3.21.0
	github.com/golang-jwt/jwt/v5 v5.3.1
	github.com/google/uuid v1.6.0
	github.com/gorilla/mux v1.8.1
	golang.org/x/oauth2 v0.37.0
	gopkg.in/yaml.v3 v3.0.1
)

require (
	github.com/go-jose/go-jose/v4 v4.1.4 // indirect
	github.com/kylelemons/godebug v1.1.0 // indirect
	golang.org/x/sync v0.10.0 // indirect
	gopkg.in/check.v1 v1.0.0-20201130134442-10cb98267c6c // indirect
)
