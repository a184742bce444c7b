@aad
Feature: Set up Microsoft 365 support integration with AAD OAuth Token
  Question 1 is answered No: the instance does not allow Basic Authentication
  for inbound calls. Question 2 is Yes: one tenant. Microsoft calls in with an
  Azure AD token of the "Rest User" application for the "Rest API"
  application, which the instance validates with an OIDC provider
  configuration. Available: Service Health Incidents, Recommended Solutions,
  Microsoft service request.

  Scenario: Walk the guide from a fresh instance and test the configuration
    Given the world "fresh": Contoso's tenant and admins, an instance with the app installed
    And the instance does not allow Basic Authentication for inbound web-service calls
    # Prerequisites 1-3: three Azure AD applications
    When the Azure AD admin "appadmin@contoso.onmicrosoft.com" registers the application "ServiceNow outbound" in "contoso.onmicrosoft.com", single tenant, with redirect URL "https://dev12345.service-now.com/auth_redirect.do"
    And the Azure AD admin "appadmin@contoso.onmicrosoft.com" creates an App Secret for "ServiceNow outbound"
    And the Azure AD admin "appadmin@contoso.onmicrosoft.com" registers the application "ServiceNow Rest API" in "contoso.onmicrosoft.com", single tenant
    And the Azure AD admin "appadmin@contoso.onmicrosoft.com" creates an App Secret for "ServiceNow Rest API"
    And the Azure AD admin "appadmin@contoso.onmicrosoft.com" registers the application "ServiceNow Rest User" in "contoso.onmicrosoft.com", single tenant
    And the Azure AD admin "appadmin@contoso.onmicrosoft.com" creates an App Secret for "ServiceNow Rest User"
    # Prerequisites 4-6 in ServiceNow, Global scope
    And the ServiceNow admin switches the current application to "Global"
    And the ServiceNow admin connects to a third party OAuth provider "contoso_outbound":
      | Client ID          | ${ServiceNow outbound: Client ID}                                      |
      | Client Secret      | ${ServiceNow outbound: App Secret}                                     |
      | Default Grant type | Client Credentials                                                     |
      | Token URL          | https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/token |
      | Redirect URL       | https://dev12345.service-now.com/oauth_redirect.do                     |
    And the ServiceNow admin creates the OIDC provider configuration "Contoso Azure":
      | OIDC Metadata URL | https://login.microsoftonline.com/contoso.onmicrosoft.com/.well-known/openid-configuration |
      | UserClaim         | appId                                                                                      |
      | User Field        | User ID                                                                                    |
    And the ServiceNow admin configures an OIDC provider to verify ID tokens "contoso_application_inbound_api":
      | Client ID                         | ${ServiceNow Rest API: Client ID}                  |
      | Client Secret                     | ${ServiceNow Rest API: App Secret}                 |
      | OAuth OIDC Provider Configuration | Contoso Azure                                      |
      | Redirect URL                      | https://dev12345.service-now.com/oauth_redirect.do |
    And the ServiceNow admin creates the integration user "${ServiceNow Rest User: Client ID}", Web service access only, with the role "incident_manager"
    # Set up the application
    And the ServiceNow admin switches the current application to "Microsoft 365 support integration"
    And the ServiceNow admin opens Microsoft 365 Support > Setup
    Then Setup opens
    When the admin agrees to the consent
    And the admin selects the OAuth profile "contoso_outbound default_profile" for the outbound OAuth provider
    And the admin selects the OAuth client "contoso_application_inbound_api" for the inbound OAuth provider, External OIDC Auth Token checked
    And the admin types the integration user "${ServiceNow Rest User: Client ID}"
    And the admin sets the repository ID "contoso-snow"
    And the admin sets the application settings:
      | SSO with Microsoft 365    | checked                       |
      | Microsoft 365 Admin Email | admin@contoso.onmicrosoft.com |
      | Test Environment          | checked                       |
    Then the completion page shows:
      | Outbound App ID | ${ServiceNow outbound: Client ID}                                  |
      | Repository ID   | contoso-snow                                                       |
      | Endpoint        | https://dev12345.service-now.com/api/x_mioms_m365_assis/v1/inbound |
      | Client ID       | ${ServiceNow Rest API: Client ID}                                  |
      | User Name       | ${ServiceNow Rest User: Client ID}                                 |
    When the Microsoft 365 admin "admin@contoso.onmicrosoft.com" selects the internal support tool "ServiceNow" with Application ID "${completion: Outbound App ID}"
    And the Microsoft 365 admin "admin@contoso.onmicrosoft.com" adds the repository:
      | Repository          | ${completion: Repository ID}        |
      | Endpoint            | ${completion: Endpoint}             |
      | Authentication type | AAD Auth                            |
      | Client Id           | ${completion: Client ID}            |
      | Rest username       | ${completion: User Name}            |
      | Rest user password  | ${ServiceNow Rest User: App Secret} |
    And the admin selects Next to complete the integration
    Then the integration is complete
    And the instance received an inbound call from the connector
    When the ServiceNow admin gives "beth.anglin" the role "x_mioms_m365_assis.administrator"
    And "beth.anglin" links the Microsoft 365 admin account "admin@contoso.onmicrosoft.com"
    # Test the configuration
    When "admin" opens incident "INC0010001"
    Then the "Microsoft 365 Support" tab is shown
    When "admin" selects Microsoft 365 Insights on incident "INC0010001"
    Then recommended solutions are shown, first "Mail is not syncing on mobile devices"
    When "beth.anglin" selects Contact Microsoft Support on incident "INC0010001"
    Then a Microsoft 365 service request is opened

  Scenario: All three features are available
    Given the world "integrated-aad"
    When "david.miller" views the service health incidents on incident "INC0010003"
    Then service health incidents are shown, among them "Meeting recordings may take longer to appear"
    When "david.miller" selects Microsoft 365 Insights on incident "INC0010003"
    Then recommended solutions are shown, first "OneDrive does not sync files on a new device"
    When "beth.anglin" links the Microsoft 365 admin account "helpdesk@contoso.onmicrosoft.com"
    And "beth.anglin" selects Contact Microsoft Support on incident "INC0010003"
    Then a Microsoft 365 service request is opened
    When "beth.anglin" opens incident "INC0010003"
    Then the tab lists the service request

  Scenario: Inbound calls succeed only with an Azure AD token for the Rest API application
    Given the world "integrated-aad"
    And the Azure AD application "ServiceNow Rest User" has Client ID "5b7d9f1c-3e5a-4c7e-9a1c-3e5a7c9e1b83" and App Secret "Usr8Q~ContosoRestUserSecret.000000000000"
    And the Azure AD application "ServiceNow Rest API" has Client ID "3a5c7e9b-1d3f-4a5c-8e7a-9c1e3a5c7e92"
    Then an Azure AD token of "ServiceNow Rest User" for "ServiceNow Rest API" is accepted by the inbound API
    And an Azure AD token of "ServiceNow Rest User" for "https://graph.microsoft.com" is refused by the inbound API
    And the basic credentials of "admin" are refused by the inbound API
    And the ServiceNow admin's session is refused by the inbound API
    And System Logs > All filtered on "OIDC" shows "Cannot find oauth_oidc_entity"
