@basic
Feature: Set up Microsoft 365 support integration with ServiceNow Basic Authentication
  Question 1 "Does your ServiceNow environment allow Basic Authentication for
  inbound webservice calls?" is answered Yes, Question 2 "do you plan to use a
  single tenant?" Yes. Microsoft calls in with ServiceNow OAuth (password
  grant of the integration user, then refresh tokens). Available: Service
  Health Incidents, Recommended Solutions, Microsoft service request.

  Scenario: Walk the guide from a fresh instance and test the configuration
    Given the world "fresh": Contoso's tenant and admins, an instance with the app installed
    # Prerequisites 1: the Azure AD application for outbound calls
    When the Azure AD admin "appadmin@contoso.onmicrosoft.com" registers the application "ServiceNow outbound" in "contoso.onmicrosoft.com", single tenant, with redirect URL "https://dev12345.service-now.com/oauth_redirect.do"
    And the Azure AD admin "appadmin@contoso.onmicrosoft.com" creates an App Secret for "ServiceNow outbound"
    # Prerequisites 2: the outbound OAuth provider, created in the Global scope
    And the ServiceNow admin switches the current application to "Global"
    And the ServiceNow admin connects to a third party OAuth provider "contoso_outbound":
      | Client ID          | ${ServiceNow outbound: Client ID}                                      |
      | Client Secret      | ${ServiceNow outbound: App Secret}                                     |
      | Default Grant type | Client Credentials                                                     |
      | Token URL          | https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/token |
      | Redirect URL       | https://dev12345.service-now.com/oauth_redirect.do                     |
    # Prerequisites 3 and 4: the inbound OAuth provider and the integration user
    And the ServiceNow admin creates an OAuth API endpoint for external clients "m365_inbound" with client secret "Inb-Secret-From-The-Feature"
    And the ServiceNow admin creates the integration user "m365.integration" with password "Integration-Pw-1!", Web service access only
    # Set up the application
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
      | Outbound App ID | ${ServiceNow outbound: Client ID}                                  |
      | Repository ID   | contoso-snow                                                       |
      | Endpoint        | https://dev12345.service-now.com/api/x_mioms_m365_assis/v1/inbound |
      | Client ID       | ${m365_inbound: Client ID}                                         |
      | User Name       | m365.integration                                                   |
    # Complete the integration in the Microsoft 365 admin portal
    When the Microsoft 365 admin "helpdesk@contoso.onmicrosoft.com" selects the internal support tool "ServiceNow" with Application ID "${completion: Outbound App ID}"
    And the Microsoft 365 admin "helpdesk@contoso.onmicrosoft.com" adds the repository:
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
    And the instance received an inbound call from the connector
    # Enable the integration for users, and link an admin account
    When the ServiceNow admin gives "beth.anglin" the role "x_mioms_m365_assis.administrator"
    And the ServiceNow admin gives "david.miller" the role "x_mioms_m365_assis.insights_user"
    And "beth.anglin" links the Microsoft 365 admin account "admin@contoso.onmicrosoft.com"
    # Test the configuration
    When "admin" opens incident "INC0010001"
    Then the "Microsoft 365 Support" tab is shown
    When "admin" selects Microsoft 365 Insights on incident "INC0010001"
    Then recommended solutions are shown, first "Mail is not syncing on mobile devices"

  Scenario: All three features are available
    Given the world "integrated-basic"
    When "david.miller" views the service health incidents on incident "INC0010002"
    Then service health incidents are shown, among them "Some users may see delays when sending or receiving email"
    When "david.miller" types "teams meetings drop" in the search box of incident "INC0010002" and searches
    Then recommended solutions are shown, first "Teams meetings drop or freeze"
    When "beth.anglin" links the Microsoft 365 admin account "admin@contoso.onmicrosoft.com"
    And "beth.anglin" selects Contact Microsoft Support on incident "INC0010002"
    Then a Microsoft 365 service request is opened
    When "beth.anglin" opens incident "INC0010002"
    Then the tab offers "Contact Microsoft Support"
    And the tab lists the service request
    And the tab lists the recommended solution "Teams meetings drop or freeze"

  Scenario: Inbound calls succeed only with the integration user's ServiceNow credentials
    Given the world "integrated-basic"
    Then the integration user's basic credentials are accepted by the inbound API
    And the ServiceNow admin's session is refused by the inbound API
    When the Microsoft 365 admin "admin@contoso.onmicrosoft.com" saves the repository "contoso-snow" again with the rest user password "Snow-Integration-1!"
    Then the repository is saved

  Scenario: Basic-mode credentials are refused once the instance disallows Basic Authentication
    Given the world "integrated-basic"
    When the instance does not allow Basic Authentication for inbound web-service calls
    Then the integration user's basic credentials are refused by the inbound API
    When the Microsoft 365 admin "admin@contoso.onmicrosoft.com" saves the repository "contoso-snow" again with the rest user password "Snow-Integration-1!"
    Then the repository is refused because "password grant at https://dev12345.service-now.com/oauth_token.do refused: HTTP 401"
    And System Logs > All filtered on "OAuth" shows "the password grant is refused because inbound basic authentication is disallowed"
