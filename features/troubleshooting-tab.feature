@troubleshooting @row-1
Feature: Troubleshooting — the "Microsoft 365 Support" tab is missing
  Guide row 1: a user can't see the "Microsoft 365 Support" tab on the
  incident form. The tab shows only to users with one of the app's roles,
  and only in form views that carry it. The guide's diagnostics are the
  current view and System Logs > All filtered on the app's scope, where the
  app says which of the two it was.

  Scenario: The user has neither of the app's roles
    Cause: abel.tuter, an itil user, has neither x_mioms_m365_assis.insights_user nor x_mioms_m365_assis.administrator
    Fix: the ServiceNow admin gives "abel.tuter" the role "x_mioms_m365_assis.insights_user"
    Given the world "integrated-basic"
    And "david.miller" selects Microsoft 365 Insights on incident "INC0010002"
    When "abel.tuter" opens incident "INC0010002"
    Then the "Microsoft 365 Support" tab is not shown
    And System Logs > All filtered on "x_mioms_m365_assis" shows "The Microsoft 365 Support tab is hidden from abel.tuter on INC0010002: the user has neither x_mioms_m365_assis.insights_user nor x_mioms_m365_assis.administrator."
    When the ServiceNow admin gives "abel.tuter" the role "x_mioms_m365_assis.insights_user"
    And "abel.tuter" opens incident "INC0010002" again
    Then the "Microsoft 365 Support" tab is shown
    And the tab lists the recommended solution "Teams meetings drop or freeze"

  Scenario Outline: The form view does not carry the tab — the <view> view
    Cause: the incident is opened in the <view> view, which has no Microsoft 365 Support section
    Fix: open the incident in the default view
    Given the world "integrated-basic"
    And "david.miller" selects Microsoft 365 Insights on incident "INC0010002"
    When "david.miller" opens incident "INC0010002" in the "<view>" view
    Then the "Microsoft 365 Support" tab is not shown
    And System Logs > All filtered on "x_mioms_m365_assis" shows "The Microsoft 365 Support tab is not part of the incident form view '<view>' (david.miller opened INC0010002)"
    When "david.miller" opens incident "INC0010002" in the "default" view
    Then the "Microsoft 365 Support" tab is shown
    And the tab lists the recommended solution "Teams meetings drop or freeze"

    Examples:
      | view   |
      | ess    |
      | mobile |
