@troubleshooting @row-16
Feature: Troubleshooting — "Unable to save ticket details. Please contact App Support."
  Guide row 16: saving ticket details of a Microsoft case shows the error on
  top of the form when the support connector refuses the update. Ticket
  details belong to service requests, so this applies where Contact Microsoft
  Support exists: Basic, Basic multi-tenant and AAD.

  Scenario Outline: Ticket details are refused in <world> — the connector answers <answer>
    Cause: the support connector answers ticket detail updates with <answer>
    Fix: the support connector is healthy again
    Given the world "<world>"
    And "beth.anglin" links the Microsoft 365 admin account "admin@contoso.onmicrosoft.com"
    And "beth.anglin" selects Contact Microsoft Support on incident "INC0010002"
    And a Microsoft 365 service request is opened
    When the support connector answers ticket detail updates with <answer>
    And "beth.anglin" saves the ticket details "Severity = B" of the case on incident "INC0010002"
    Then the form shows the error "Unable to save ticket details. Please contact App Support."
    And System Logs > All filtered on "x_mioms_m365_assis" shows "Saving ticket details of case ${case number} (INC0010002) failed"
    When the support connector is healthy again
    And "beth.anglin" saves the ticket details "Severity = B" of the case on incident "INC0010002"
    Then the ticket details are saved
    When "beth.anglin" opens incident "INC0010002" again
    Then the tab lists the service request

    Examples:
      | world                        | answer   |
      | integrated-basic             | HTTP 500 |
      | integrated-basic-multitenant | HTTP 409 |
      | integrated-aad               | HTTP 500 |
