@report-fixture
Feature: Reports of a run with failures
  The fixture of report_test.go: a failure after HTTP calls, an outline
  whose rows share a title, a step nobody defined, a pass.

  Scenario: A failure shows the wire
    Given the world "fresh": Contoso's tenant and admins, an instance with the app installed
    When the Azure AD admin "appadmin@contoso.onmicrosoft.com" registers the application "Report app" in "contoso.onmicrosoft.com", single tenant
    Then System Logs > All filtered on "x_mioms_m365_assis" shows "a message no instance ever wrote"
    And the instance allows Basic Authentication for inbound web-service calls

  Scenario Outline: One title for every row
    Given the world "fresh"
    Then System Logs > All filtered on "<source>" finds nothing

    Examples:
      | source       |
      | report.alpha |
      | report.beta  |

  Scenario: A step nobody defined
    Given a step that no definition matches

  Scenario: A pass
    Given the world "fresh"
