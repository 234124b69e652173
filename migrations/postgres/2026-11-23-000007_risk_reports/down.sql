DROP TABLE risk_reports;
