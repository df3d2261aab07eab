"""Zoo tickets: booking rules, seat holds, ticket checkout, issuing and QR codes."""
