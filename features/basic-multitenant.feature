@basic-multitenant
Feature: Set up Microsoft 365 support integration with Basic Authentication for several tenants
  Question 1 is Yes (Basic Authentication allowed for inbound calls) and
  Question 2 is No: more than one tenant is integrated. The guide leaves this
  combination's steps blank; m365snow follows the Basic Authentication path,
  which is not bound to one tenant: every tenant registers its own outbound
  application and ServiceNow outbound provider, Setup is walked once per
  tenant, and every tenant's repository calls in with the same inbound OAuth
  client and integration user. Available: Service Health Incidents,
  Recommended Solutions, Microsoft service request.

  Scenario: Walk the guide for Contoso and Fabrikam from a fresh instance
    Given the world "fresh": Contoso's and Fabrikam's tenants and admins, an instance with the app installed
    # Prerequisites 1, in each tenant: the Azure AD application for outbound calls
    When the Azure AD admin "appadmin@contoso.onmicrosoft.com" registers the application "Contoso outbound" in "contoso.onmicrosoft.com", single tenant, with redirect URL "https://dev12345.service-now.com/oauth_redirect.do"
    And the Azure AD admin "appadmin@contoso.onmicrosoft.com" creates an App Secret for "Contoso outbound"
    And the Azure AD admin "admin@fabrikam.onmicrosoft.com" registers the application "Fabrikam outbound" in "fabrikam.onmicrosoft.com", single tenant, with redirect URL "https://dev12345.service-now.com/oauth_redirect.do"
    And the Azure AD admin "admin@fabrikam.onmicrosoft.com" creates an App Secret for "Fabrikam outbound"
    # Prerequisites 2, one outbound provider per tenant; 3 and 4 once
    And the ServiceNow admin switches the current application to "Global"
    And the ServiceNow admin connects to a third party OAuth provider "contoso_outbound":
      | Client ID          | ${Contoso outbound: Client ID}                                         |
      | Client Secret      | ${Contoso outbound: App Secret}                                        |
      | Default Grant type | Client Credentials                                                     |
      | Token URL          | https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/token |
      | Redirect URL       | https://dev12345.service-now.com/oauth_redirect.do                     |
    And the ServiceNow admin connects to a third party OAuth provider "fabrikam_outbound":
      | Client ID          | ${Fabrikam outbound: Client ID}                                         |
      | Client Secret      | ${Fabrikam outbound: App Secret}                                        |
      | Default Grant type | Client Credentials                                                      |
      | Token URL          | https://login.microsoftonline.com/fabrikam.onmicrosoft.com/oauth2/token |
      | Redirect URL       | https://dev12345.service-now.com/oauth_redirect.do                      |
    And the ServiceNow admin creates an OAuth API endpoint for external clients "m365_inbound" with client secret "Inb-Secret-From-The-Feature"
    And the ServiceNow admin creates the integration user "m365.integration" with password "Integration-Pw-1!", Web service access only
    # Set up the application for Contoso
    And the ServiceNow admin switches the current application to "Microsoft 365 support integration"
    And the ServiceNow admin opens Microsoft 365 Support > Setup
    Then Setup opens
    When the admin agrees to the consent
    And the admin selects the OAuth profile "contoso_outbound default_profile" for the outbound OAuth provider
    And the admin selects the OAuth client "m365_inbound" for the inbound OAuth provider, External OIDC Auth Token unchecked
    And the admin selects the integration user "m365.integration"
    And the admin sets the repository ID "contoso-snow"
    And the admin sets the application settings:
      | SSO with Microsoft 365    | unchecked                     |
      | Microsoft 365 Admin Email | admin@contoso.onmicrosoft.com |
      | Test Environment          | checked                       |
    Then the completion page shows:
      | Outbound App ID | ${Contoso outbound: Client ID}                                     |
      | Repository ID   | contoso-snow                                                       |
      | Endpoint        | https://dev12345.service-now.com/api/x_mioms_m365_assis/v1/inbound |
      | Client ID       | ${m365_inbound: Client ID}                                         |
      | User Name       | m365.integration                                                   |
    When the Microsoft 365 admin "admin@contoso.onmicrosoft.com" selects the internal support tool "ServiceNow" with Application ID "${completion: Outbound App ID}"
    And the Microsoft 365 admin "admin@contoso.onmicrosoft.com" adds the repository:
      | Repository           | ${completion: Repository ID}   |
      | Endpoint             | ${completion: Endpoint}        |
      | Authentication type  | Basic Auth                     |
      | Client Id            | ${completion: Client ID}       |
      | Client secret        | ${m365_inbound: Client Secret} |
      | Refresh token expiry | 864000                         |
      | Rest username        | ${completion: User Name}       |
      | Rest user password   | Integration-Pw-1!              |
    And the admin selects Next to complete the integration
    Then the integration is complete
    # Walk Setup again for Fabrikam: its outbound provider, its repository
    When the admin selects the OAuth profile "fabrikam_outbound default_profile" for the outbound OAuth provider
    And the admin sets the repository ID "fabrikam-snow"
    And the admin sets the application settings:
      | SSO with Microsoft 365    | unchecked                      |
      | Microsoft 365 Admin Email | admin@fabrikam.onmicrosoft.com |
      | Test Environment          | checked                        |
    Then the completion page shows:
      | Outbound App ID | ${Fabrikam outbound: Client ID}                                    |
      | Repository ID   | fabrikam-snow                                                      |
      | Endpoint        | https://dev12345.service-now.com/api/x_mioms_m365_assis/v1/inbound |
      | Client ID       | ${m365_inbound: Client ID}                                         |
      | User Name       | m365.integration                                                   |
    When the Microsoft 365 admin "admin@fabrikam.onmicrosoft.com" selects the internal support tool "ServiceNow" with Application ID "${completion: Outbound App ID}"
    And the Microsoft 365 admin "admin@fabrikam.onmicrosoft.com" adds the repository:
      | Repository           | ${completion: Repository ID}   |
      | Endpoint             | ${completion: Endpoint}        |
      | Authentication type  | Basic Auth                     |
      | Client Id            | ${completion: Client ID}       |
      | Client secret        | ${m365_inbound: Client Secret} |
      | Refresh token expiry | 864000                         |
      | Rest username        | ${completion: User Name}       |
      | Rest user password   | Integration-Pw-1!              |
    And the admin selects Next to complete the integration
    Then the integration is complete
    # Both tenants' repositories call in with the integration user
    When the Microsoft 365 admin "admin@contoso.onmicrosoft.com" saves the repository "contoso-snow" again
    Then the repository is saved
    When the Microsoft 365 admin "admin@fabrikam.onmicrosoft.com" saves the repository "fabrikam-snow" again
    Then the repository is saved
    # Enable users and test the configuration
    When the ServiceNow admin gives "beth.anglin" the role "x_mioms_m365_assis.administrator"
    And "beth.anglin" links the Microsoft 365 admin account "admin@fabrikam.onmicrosoft.com"
    When "admin" opens incident "INC0010001"
    Then the "Microsoft 365 Support" tab is shown
    When "admin" selects Microsoft 365 Insights on incident "INC0010001"
    Then recommended solutions are shown, first "Mail is not syncing on mobile devices"

  Scenario: Repositories of two tenants authenticate with the integration user
    Given the world "integrated-basic-multitenant"
    When the Microsoft 365 admin "admin@contoso.onmicrosoft.com" saves the repository "contoso-snow" again
    Then the repository is saved
    When the Microsoft 365 admin "admin@fabrikam.onmicrosoft.com" saves the repository "fabrikam-snow" again
    Then the repository is saved
    And the instance received an inbound call from the connector
    When the Microsoft 365 admin "admin@fabrikam.onmicrosoft.com" saves the repository "fabrikam-snow" again with the rest user password "Not-The-Password-1!"
    Then the repository is refused because "password grant at https://dev12345.service-now.com/oauth_token.do refused: HTTP 401"
    When the Microsoft 365 admin "admin@contoso.onmicrosoft.com" saves the repository "contoso-snow" again
    Then the repository is saved

  Scenario: All three features are available
    Given the world "integrated-basic-multitenant"
    When "david.miller" views the service health incidents on incident "INC0010002"
    Then service health incidents are shown, among them "Some users may see delays when sending or receiving email"
    When "david.miller" types "teams meetings drop" in the search box of incident "INC0010002" and searches
    Then recommended solutions are shown, first "Teams meetings drop or freeze"
    When "beth.anglin" links the Microsoft 365 admin account "admin@contoso.onmicrosoft.com"
    And "beth.anglin" selects Contact Microsoft Support on incident "INC0010002"
    Then a Microsoft 365 service request is opened
    When "beth.anglin" opens incident "INC0010002"
    Then the tab lists the service request

  Scenario: Basic-mode credentials are refused once the instance disallows Basic Authentication
    Given the world "integrated-basic-multitenant"
    When the instance does not allow Basic Authentication for inbound web-service calls
    And the Microsoft 365 admin "admin@fabrikam.onmicrosoft.com" saves the repository "fabrikam-snow" again
    Then the repository is refused because "password grant at https://dev12345.service-now.com/oauth_token.do refused: HTTP 401"
