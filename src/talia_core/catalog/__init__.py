"""What the business sells: plans and invitation templates, with their prices."""
