"""The user manager: organizations, users, memberships, invites, join requests, passwords."""
