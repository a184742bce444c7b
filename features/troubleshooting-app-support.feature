@troubleshooting
Feature: Troubleshooting — "Please contact app support."
  Guide rows 10 and 12: the button for recommended solutions, or the search
  box, shows "Please contact app support." on top of the form. The app got a
  token and reached the support connector, but the connector failed: it
  answered with a server error or with a body that is not the JSON it
  promised. The form message and System Logs > All filtered on the app's
  scope say so; the fix is on the connector's side.

  Scenario Outline: Recommended solutions say "Please contact app support." — the connector answers <answer>
    Cause: the support connector answers searches for solutions with <answer>
    Fix: the support connector is healthy again
    Given the world "integrated-basic"
    And "david.miller" selects Microsoft 365 Insights on incident "INC0010002"
    When the support connector answers searches for solutions with <answer>
    And <action>
    Then the form shows the error "Please contact app support."
    And System Logs > All filtered on "x_mioms_m365_assis" shows "<log>"
    When the support connector is healthy again
    And <action>
    Then recommended solutions are shown, first "<first solution>"
    When "david.miller" opens incident "INC0010002" again
    Then the tab lists the recommended solution "Teams meetings drop or freeze"

    @row-10
    Examples: Clicking the button for Microsoft recommended solutions
      | answer         | action                                                                 | first solution                        | log                                                                                   |
      | HTTP 500       | "david.miller" selects Microsoft 365 Insights on incident "INC0010001" | Mail is not syncing on mobile devices | Recommended solutions for INC0010001 failed: the connector answered HTTP 500          |
      | HTTP 503       | "david.miller" selects Microsoft 365 Insights on incident "INC0010001" | Mail is not syncing on mobile devices | Recommended solutions for INC0010001 failed: the connector answered HTTP 503          |
      | malformed JSON | "david.miller" selects Microsoft 365 Insights on incident "INC0010001" | Mail is not syncing on mobile devices | Recommended solutions for INC0010001 failed: the connector's answer is not valid JSON |

    @row-12
    Examples: Typing a problem in the search box
      | answer         | action                                                                                             | first solution                | log                                                                                              |
      | HTTP 500       | "david.miller" types "teams meetings drop" in the search box of incident "INC0010001" and searches | Teams meetings drop or freeze | Search for recommended solutions for INC0010001 failed: the connector answered HTTP 500          |
      | malformed JSON | "david.miller" types "teams meetings drop" in the search box of incident "INC0010001" and searches | Teams meetings drop or freeze | Search for recommended solutions for INC0010001 failed: the connector's answer is not valid JSON |
