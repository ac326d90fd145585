"""What ops look at: each journey's live funnel and the state of the outbox."""
