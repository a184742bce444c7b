@troubleshooting @row-8
Feature: Troubleshooting — "is not a valid Microsoft 365 admin account"
  Guide row 8: "Contact Microsoft Support" shows "{EmailAddress} is not a
  valid Microsoft 365 admin account. You need Microsoft 365 admin privileges
  to open a service request. In the app, link the admin account." Microsoft
  opens a service request only for a Microsoft 365 administrator of the
  tenant: the user's linked admin account, or else their own email. The fix
  is the one the message names, Link Account with an admin's address.
  Service requests exist in Basic, Basic multi-tenant and AAD setups.

  Scenario Outline: Contact Microsoft Support refuses <email> in <world>
    Fix: "beth.anglin" links the Microsoft 365 admin account "admin@contoso.onmicrosoft.com"
    Given the world "<world>"
    When <cause>
    And "beth.anglin" selects Contact Microsoft Support on incident "INC0010001"
    Then the form shows the error "<email> is not a valid Microsoft 365 admin account. You need Microsoft 365 admin privileges to open a service request. In the app, link the admin account."
    And System Logs > All filtered on "x_mioms_m365_assis" shows "Contact Microsoft Support for INC0010001: the connector answered HTTP 403 ContactNotAdmin"
    When "beth.anglin" links the Microsoft 365 admin account "admin@contoso.onmicrosoft.com"
    And "beth.anglin" selects Contact Microsoft Support on incident "INC0010001"
    Then a Microsoft 365 service request is opened
    When "beth.anglin" opens incident "INC0010001" again
    Then the tab lists the service request

    Examples:
      | world                        | cause                                                                                | email                          |
      | integrated-basic             | "beth.anglin" has linked no Microsoft 365 admin account                              | beth.anglin@contoso.com        |
      | integrated-basic-multitenant | "beth.anglin" has linked no Microsoft 365 admin account                              | beth.anglin@contoso.com        |
      | integrated-aad               | "beth.anglin" has linked no Microsoft 365 admin account                              | beth.anglin@contoso.com        |
      | integrated-basic             | "beth.anglin" links the Microsoft 365 admin account "lynne@contoso.onmicrosoft.com"  | lynne@contoso.onmicrosoft.com  |
      | integrated-basic-multitenant | "beth.anglin" links the Microsoft 365 admin account "admin@fabrikam.onmicrosoft.com" | admin@fabrikam.onmicrosoft.com |
      | integrated-aad               | "beth.anglin" links the Microsoft 365 admin account "lynne@contoso.onmicrosoft.com"  | lynne@contoso.onmicrosoft.com  |
