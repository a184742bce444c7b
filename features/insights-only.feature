@insights-only
Feature: Set up Microsoft 365 support integration for Insights only
  Question 1 is No (no Basic Authentication for inbound calls) and Question 2
  is No (several tenants): the instance is set up without any inbound
  connection. Available: Service Health Incidents and Recommended Solutions;
  not available: Microsoft service requests.

  Scenario: Walk the guide from a fresh instance and test the configuration
    Given the world "fresh": Contoso's tenant and admins, an instance with the app installed
    And the instance does not allow Basic Authentication for inbound web-service calls
    When the Azure AD admin "appadmin@contoso.onmicrosoft.com" registers the application "ServiceNow outbound" in "contoso.onmicrosoft.com", single tenant, with redirect URL "https://dev12345.service-now.com/auth_redirect.do"
    And the Azure AD admin "appadmin@contoso.onmicrosoft.com" creates an App Secret for "ServiceNow outbound"
    And the ServiceNow admin switches the current application to "Global"
    And the ServiceNow admin connects to a third party OAuth provider "contoso_outbound":
      | Client ID          | ${ServiceNow outbound: Client ID}                                      |
      | Client Secret      | ${ServiceNow outbound: App Secret}                                     |
      | Default Grant type | Client Credentials                                                     |
      | Token URL          | https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/token |
      | Redirect URL       | https://dev12345.service-now.com/oauth_redirect.do                     |
    And the ServiceNow admin switches the current application to "Microsoft 365 support integration"
    And the ServiceNow admin opens Microsoft 365 Support > Setup
    Then Setup opens
    When the admin agrees to the consent
    And the admin selects the OAuth profile "contoso_outbound default_profile" for the outbound OAuth provider
    And the admin skips the inbound OAuth provider
    And the admin skips the integration user
    And the admin sets the repository ID "contoso-snow"
    And the admin sets the application settings:
      | SSO with Microsoft 365    | unchecked                     |
      | Microsoft 365 Admin Email | admin@contoso.onmicrosoft.com |
      | Test Environment          | unchecked                     |
    Then the completion page shows:
      | Outbound App ID | ${ServiceNow outbound: Client ID}                                  |
      | Repository ID   | contoso-snow                                                       |
      | Endpoint        | https://dev12345.service-now.com/api/x_mioms_m365_assis/v1/inbound |
      | Client ID       |                                                                    |
      | User Name       |                                                                    |
    When the Microsoft 365 admin "admin@contoso.onmicrosoft.com" selects the internal support tool "ServiceNow" with Application ID "${completion: Outbound App ID}"
    And the Microsoft 365 admin "admin@contoso.onmicrosoft.com" adds the repository:
      | Repository          | ${completion: Repository ID} |
      | Endpoint            | ${completion: Endpoint}      |
      | Authentication type | AAD Auth                     |
      | Client Id           | ignored                      |
      | Rest username       | ignored                      |
      | Rest user password  | ignored                      |
    And the admin selects Next to complete the integration
    Then the integration is complete
    And the instance received no inbound call from the connector
    When the ServiceNow admin gives "david.miller" the role "x_mioms_m365_assis.insights_user"
    When "admin" opens incident "INC0010001"
    Then the "Microsoft 365 Support" tab is shown
    When "admin" selects Microsoft 365 Insights on incident "INC0010001"
    Then recommended solutions are shown, first "Mail is not syncing on mobile devices"

  Scenario: Service health and recommended solutions are available, service requests are not
    Given the world "integrated-insights-only"
    When "david.miller" views the service health incidents on incident "INC0010002"
    Then service health incidents are shown, among them "Some users may see delays when sending or receiving email"
    When "david.miller" types "outlook on the web something went wrong" in the search box of incident "INC0010002" and searches
    Then recommended solutions are shown, first "Outlook on the web shows "Something went wrong""
    When "beth.anglin" opens incident "INC0010002"
    Then the tab offers "Recommended solutions"
    And the tab does not offer "Contact Microsoft Support"
    When "beth.anglin" selects Contact Microsoft Support on incident "INC0010002"
    Then Contact Microsoft Support is refused: "Contact Microsoft Support is not available"

  Scenario: Any inbound call is refused
    Given the world "integrated-insights-only"
    Then the ServiceNow admin's session is refused by the inbound API
    And the basic credentials of "admin" are refused by the inbound API
    And System Logs > All filtered on "x_mioms_m365_assis" shows "inbound calls are not configured: the app is set up for Insights only"
