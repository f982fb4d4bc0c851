import os

from clients.inventory import InventoryClient

client = InventoryClient(os.environ["INVENTORY_API_URL"])
print(len(client.levels("BER")))
