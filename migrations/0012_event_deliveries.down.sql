DROP TABLE event_deliveries;
