@troubleshooting
Feature: Troubleshooting — solutions or cases are gone when the incident is reopened
  Guide rows 14 and 15. Recommended solutions are kept on the incident by
  the app, with the user's own rights on its solutions table; Microsoft
  cases are kept when the connector calls the instance back to link the
  case. When either write is refused, the user saw the result once and it is
  gone on reopening; System Logs > All filtered on the app's scope says
  which write was refused.

  @row-14
  Scenario: Recommended solutions are gone after reopening — the solutions table no longer lets insights users create records
    Cause: the create access control of x_mioms_m365_assis_solution is deactivated, so only admins may create solutions
    Fix: the ServiceNow admin activates the create access control of "x_mioms_m365_assis_solution" again
    Given the world "integrated-basic"
    And "david.miller" selects Microsoft 365 Insights on incident "INC0010002"
    When the ServiceNow admin deactivates the create access control of "x_mioms_m365_assis_solution"
    And "david.miller" selects Microsoft 365 Insights on incident "INC0010001"
    Then recommended solutions are shown, first "Mail is not syncing on mobile devices"
    When "david.miller" opens incident "INC0010001" again
    Then the tab lists no recommended solution
    And System Logs > All filtered on "x_mioms_m365_assis" shows "Could not save recommended solutions for INC0010001"
    When the ServiceNow admin activates the create access control of "x_mioms_m365_assis_solution"
    And "david.miller" selects Microsoft 365 Insights on incident "INC0010001"
    And "david.miller" opens incident "INC0010001" again
    Then the tab lists the recommended solution "Mail is not syncing on mobile devices"
    When "david.miller" opens incident "INC0010002" again
    Then the tab lists the recommended solution "Teams meetings drop or freeze"

  @row-15
  Scenario Outline: Cases are gone after reopening in <world> — <cause>
    Given the world "<world>"
    And "beth.anglin" links the Microsoft 365 admin account "admin@contoso.onmicrosoft.com"
    And "beth.anglin" selects Contact Microsoft Support on incident "INC0010002"
    And a Microsoft 365 service request is opened
    When <cause>
    And "beth.anglin" selects Contact Microsoft Support on incident "INC0010001"
    Then a Microsoft 365 service request is opened
    When "beth.anglin" opens incident "INC0010001" again
    Then the tab lists no service request
    And System Logs > All filtered on "x_mioms_m365_assis" shows "<log>"
    When <fix>
    And "beth.anglin" selects Contact Microsoft Support on incident "INC0010003"
    And "beth.anglin" opens incident "INC0010001" again
    Then the tab lists the service request
    When "beth.anglin" opens incident "INC0010002" again
    Then the tab lists the service request

    Examples:
      | world                        | cause                                                                                                                                      | log                                                                              | fix                                                                                                                                               |
      | integrated-basic             | the ServiceNow admin changes the password of "m365.integration" to "Integration-Pw-2!"                                                     | Inbound call PUT /api/x_mioms_m365_assis/v1/inbound/cases/${case number} refused | the Microsoft 365 admin "admin@contoso.onmicrosoft.com" saves the repository "contoso-snow" again with the rest user password "Integration-Pw-2!" |
      | integrated-basic-multitenant | the ServiceNow admin changes the password of "m365.integration" to "Integration-Pw-2!"                                                     | Inbound call PUT /api/x_mioms_m365_assis/v1/inbound/cases/${case number} refused | the Microsoft 365 admin "admin@contoso.onmicrosoft.com" saves the repository "contoso-snow" again with the rest user password "Integration-Pw-2!" |
      | integrated-aad               | the ServiceNow admin changes the Client ID of the OAuth entity "contoso_application_inbound_api" to "3a5c7e9b-0000-4a5c-8e7a-9c1e3a5c7e92" | Inbound call PUT /api/x_mioms_m365_assis/v1/inbound/cases/${case number} refused | the ServiceNow admin changes the Client ID of the OAuth entity "contoso_application_inbound_api" to "3a5c7e9b-1d3f-4a5c-8e7a-9c1e3a5c7e92"        |
