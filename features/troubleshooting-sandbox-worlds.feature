@troubleshooting @sandbox-worlds
Feature: Troubleshooting worlds of the sandbox
  Every row of the guide's Troubleshooting table is also a sandbox world
  (make sandbox WORLD=troubleshooting-9) in which its cause is already
  induced, so that an admin can see the symptom by hand. Each world here
  shows its row's symptom on the first try.

  Scenario Outline: The world troubleshooting-<row> shows its symptom
    Given the world "troubleshooting-<row>"
    When <action>
    Then <symptom>

    Examples:
      | row         | action                                                                                             | symptom                                                                                                                                                                                               |
      | 1           | "abel.tuter" opens incident "INC0010001"                                                           | the "Microsoft 365 Support" tab is not shown                                                                                                                                                          |
      | 2           | "david.miller" selects Microsoft 365 Insights on incident "INC0010001"                             | the form shows the error "Please contact your ServiceNow admin and ask them to complete the setup steps for the app."                                                                                 |
      | 3           | "david.miller" selects Microsoft 365 Insights on incident "INC0010001"                             | the form shows the error "Please contact your ServiceNow admin and ask them to complete the final set up step for the app."                                                                           |
      | 4           | "david.miller" types "teams meetings drop" in the search box of incident "INC0010001" and searches | the form shows the error "Please contact your ServiceNow admin and ask them to complete the setup steps for the app."                                                                                 |
      | 5           | "david.miller" types "teams meetings drop" in the search box of incident "INC0010001" and searches | the form shows the error "Please contact your ServiceNow admin and ask them to complete the final set up step for the app."                                                                           |
      | 6           | "beth.anglin" selects Contact Microsoft Support on incident "INC0010001"                           | the form shows the error "Please contact your ServiceNow admin and ask them to complete the setup steps for the app."                                                                                 |
      | 7           | "beth.anglin" selects Contact Microsoft Support on incident "INC0010001"                           | the form shows the error "Please contact your ServiceNow admin and ask them to complete the final set up step for the app."                                                                           |
      | 8           | "beth.anglin" selects Contact Microsoft Support on incident "INC0010001"                           | the form shows the error "beth.anglin@contoso.com is not a valid Microsoft 365 admin account. You need Microsoft 365 admin privileges to open a service request. In the app, link the admin account." |
      | 9           | "david.miller" selects Microsoft 365 Insights on incident "INC0010001"                             | nothing shows up                                                                                                                                                                                      |
      | 11          | "david.miller" types "teams meetings drop" in the search box of incident "INC0010001" and searches | nothing shows up                                                                                                                                                                                      |
      | 13          | "beth.anglin" selects Contact Microsoft Support on incident "INC0010001"                           | nothing happens                                                                                                                                                                                       |
      | cross-scope | the ServiceNow admin switches the current application to "Microsoft 365 support integration"       | the ServiceNow admin's Setup shows the error "Read operation against 'oauth_entity' from scope 'x_mioms_m365_assis' has been refused due to the table's cross-scope access policy"                    |

    Examples: Worlds with a fault at the connector
      | row | action                                                                                             | symptom                                                |
      | 10  | "david.miller" selects Microsoft 365 Insights on incident "INC0010001"                             | the form shows the error "Please contact app support." |
      | 12  | "david.miller" types "teams meetings drop" in the search box of incident "INC0010001" and searches | the form shows the error "Please contact app support." |

  Scenario: The world troubleshooting-14 loses recommended solutions
    Given the world "troubleshooting-14"
    When "david.miller" selects Microsoft 365 Insights on incident "INC0010001"
    Then recommended solutions are shown, first "Mail is not syncing on mobile devices"
    When "david.miller" opens incident "INC0010001" again
    Then the tab lists no recommended solution

  Scenario: The world troubleshooting-15 loses cases
    Given the world "troubleshooting-15"
    When "beth.anglin" links the Microsoft 365 admin account "admin@contoso.onmicrosoft.com"
    And "beth.anglin" selects Contact Microsoft Support on incident "INC0010001"
    Then a Microsoft 365 service request is opened
    When "beth.anglin" opens incident "INC0010001" again
    Then the tab lists no service request


  Scenario: The world troubleshooting-16 refuses ticket details
    Given the world "troubleshooting-16"
    When "beth.anglin" links the Microsoft 365 admin account "admin@contoso.onmicrosoft.com"
    And "beth.anglin" selects Contact Microsoft Support on incident "INC0010001"
    Then a Microsoft 365 service request is opened
    When "beth.anglin" saves the ticket details "Severity = B" of the case on incident "INC0010001"
    Then the form shows the error "Unable to save ticket details. Please contact App Support."
