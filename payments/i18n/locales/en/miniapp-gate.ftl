# The staff "Scan tickets" screen of the Mini App (payments/miniapp/static/js/scanner.js).
gate-title = Scan tickets
gate-scan = Scan a ticket
gate-scan-hint = Point the camera at the ticket's QR code
gate-scan-next = Scan next
gate-done = Done
gate-manual-label = Code from a damaged ticket
gate-manual-check = Check
gate-device-label = This device's name
gate-device-placeholder = e.g. Gate 2
gate-online = Online
gate-sending =
    Sending { $count ->
        [one] { $count } check-in
       *[other] { $count } check-ins
    } made offline…
gate-offline =
    Offline · { $count ->
        [one] { $count } check-in queued
       *[other] { $count } check-ins queued
    }
gate-offline-note = Checked offline by its signature
gate-offline-unknown = No connection
gate-offline-unknown-detail = Only a signed QR code can be checked offline. Scan the ticket's QR code or try again.
gate-admit =
    Admit { $count ->
        [one] { $count } person
       *[other] { $count } people
    }
gate-admit-detail = { $ticket }, { $time }
gate-used = Already used
gate-used-detail = at { $time }
gate-used-detail-device = at { $time } by { $device }
gate-other-day = Ticket for { $date }
gate-test = Test ticket
gate-test-detail = Bought in test mode: it does not let anyone in.
gate-forged = Forged ticket
gate-forged-detail = The signature does not match this zoo's key. Do not admit.
gate-not-ticket = Not a ticket of this zoo
gate-not-staff = Only gate staff can check tickets in.
gate-reason-used = Already used
gate-reason-refunded = Refunded
gate-reason-other_day = Ticket for another day
gate-reason-test = Test ticket
gate-reason-not_found = No such ticket
gate-reason-forged = Forged ticket
gate-reason-error = Could not check the ticket
gate-twice-title =
    After the outage: { $count ->
        [one] { $count } ticket needs attention
       *[other] { $count } tickets need attention
    }
gate-twice-item = { $code } ({ $ticket }) was let in twice while offline; first { $first }.
gate-refused-item = { $code } ({ $ticket }) was let in offline, but the server says: { $reason }.
gate-dismiss = Got it
