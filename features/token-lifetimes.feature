@basic @token-lifetimes
Feature: The support connector's ServiceNow tokens expire and are renewed
  With Basic Authentication the support connector signs in to the instance
  with the password grant of the integration user, uses the access token
  while it lives (the OAuth API endpoint's Access Token Lifespan, 1800 s by
  default) and renews it with the refresh grant; once the refresh token has
  expired too, it signs in with the password grant again. The instance's
  clock decides when its tokens expire, not the connector's: against an
  external connector only the instance's time moves.

  Background:
    Given the world "integrated-basic"
    And "beth.anglin" links the Microsoft 365 admin account "admin@contoso.onmicrosoft.com"
    And "beth.anglin" selects Contact Microsoft Support on incident "INC0010002"
    And a Microsoft 365 service request is opened

  Scenario: A service request after the access token expired is linked with a refreshed token
    When the access token lifespan of the OAuth API endpoint "m365_inbound" passes on the instance
    And "beth.anglin" selects Contact Microsoft Support on incident "INC0010001"
    Then a Microsoft 365 service request is opened
    And the support connector renewed its access token with the refresh token grant
    When "beth.anglin" opens incident "INC0010001" again
    Then the tab lists the service request

  Scenario: A service request after the refresh token expired is linked after a new sign-in
    When the refresh token lifespan of the OAuth API endpoint "m365_inbound" passes on the instance
    And "beth.anglin" selects Contact Microsoft Support on incident "INC0010001"
    Then a Microsoft 365 service request is opened
    And the support connector signed in again with the password grant
    When "beth.anglin" opens incident "INC0010001" again
    Then the tab lists the service request
