@aad @sso
Feature: Sign in to the instance with Microsoft 365
  The application setting "SSO with Microsoft 365" is checked when the
  instance's users sign in with their Microsoft 365 accounts. Here the
  instance is set up that way: Multi-Provider SSO with Azure AD as OpenID
  Connect identity provider, the ID token's email claim matched to the
  user's email. docs/sso.md says what the fake decides where the guide is
  silent.

  Scenario: An admin signs in through Azure AD and works in the session
    Given the world "fresh": Contoso's tenant and admins, an instance with the app installed
    When the Azure AD admin "appadmin@contoso.onmicrosoft.com" registers the application "ServiceNow SSO" in "contoso.onmicrosoft.com", single tenant, with redirect URL "https://dev12345.service-now.com/navpage.do"
    And the Azure AD admin "appadmin@contoso.onmicrosoft.com" creates an App Secret for "ServiceNow SSO"
    And the ServiceNow admin switches the current application to "Global"
    And the ServiceNow admin creates the OIDC provider configuration "Microsoft 365":
      | OIDC Metadata URL | https://login.microsoftonline.com/contoso.onmicrosoft.com/v2.0/.well-known/openid-configuration |
      | UserClaim         | email                                                                                           |
      | User Field        | email                                                                                           |
    And the ServiceNow admin creates the Multi-Provider SSO identity provider "Microsoft 365 SSO":
      | Client ID                         | ${ServiceNow SSO: Client ID}  |
      | Client Secret                     | ${ServiceNow SSO: App Secret} |
      | OAuth OIDC Provider Configuration | Microsoft 365                 |
    And "admin@contoso.onmicrosoft.com" signs in to the instance with the SSO link of "Microsoft 365 SSO"
    Then with the single sign-on session of "admin@contoso.onmicrosoft.com" the Table API lists the incident "Email is not syncing in Outlook on my phone"
    And System Logs > All filtered on "SSO" shows "User admin logged in through identity provider Microsoft 365 SSO"

  Scenario: An Azure AD user without a ServiceNow account is refused
    Given the world "fresh": Contoso's tenant and admins, an instance with the app installed
    When the Azure AD admin "appadmin@contoso.onmicrosoft.com" registers the application "ServiceNow SSO" in "contoso.onmicrosoft.com", single tenant, with redirect URL "https://dev12345.service-now.com/navpage.do"
    And the Azure AD admin "appadmin@contoso.onmicrosoft.com" creates an App Secret for "ServiceNow SSO"
    And the ServiceNow admin creates the OIDC provider configuration "Microsoft 365":
      | OIDC Metadata URL | https://login.microsoftonline.com/contoso.onmicrosoft.com/v2.0/.well-known/openid-configuration |
      | UserClaim         | email                                                                                           |
      | User Field        | email                                                                                           |
    And the ServiceNow admin creates the Multi-Provider SSO identity provider "Microsoft 365 SSO":
      | Client ID                         | ${ServiceNow SSO: Client ID}  |
      | Client Secret                     | ${ServiceNow SSO: App Secret} |
      | OAuth OIDC Provider Configuration | Microsoft 365                 |
    Then "lynne@contoso.onmicrosoft.com" signing in to the instance with the SSO link of "Microsoft 365 SSO" is refused with "no user with email = lynne@contoso.onmicrosoft.com"
    And System Logs > All filtered on "SSO" shows "Multi-Provider SSO login failed: no user with email = lynne@contoso.onmicrosoft.com"
