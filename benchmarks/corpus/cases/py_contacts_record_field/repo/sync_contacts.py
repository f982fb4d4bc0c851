import json
import logging
from pathlib import Path

from crm.mapping import to_contact

logging.basicConfig(level=logging.INFO)
log = logging.getLogger("sync_contacts")

payload = json.loads(Path("exports/contacts_page_1.json").read_text())
log.info("page has %d records", len(payload["results"]))
contacts = [to_contact(r) for r in payload["results"]]
log.info("mapped %d contacts", len(contacts))
