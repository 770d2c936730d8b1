"""The pharmacy interface over HL7 v2 (MLLP): orders and dispenses come in, refills go out.
It sits above `mar` (beside `clinical`), below `incidents`.

models      PharmacyInterface (a facility's pharmacy: MSH-3/4, where to send refills),
            InboundMessage (every frame received, raw, with its ACK), PatientLink (the
            pharmacy's patient id -> a resident), PendingOrder (a message's order waiting for a
            nurse), DispenseReceipt (a delivery to confirm into stock), RefillRequest
hl7         building and reading the messages (python-hl7): the ACK, the fields we read
listener    the asyncio MLLP server behind `manage.py hl7_listen`
services    receiving (store before ACK), processing, matching, accept / reject, receipts
selectors   the inbox, the match queue, an order beside the resident's current orders
tasks       processing after the ACK, the beat's sweep, refills out
"""
