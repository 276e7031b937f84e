"""The airlock: every file that leaves a tresor node passes its checks and two reviewers."""
