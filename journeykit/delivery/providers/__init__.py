"""The providers: what a sender is given and returns, SendGrid and Twilio through their official
SDKs."""
