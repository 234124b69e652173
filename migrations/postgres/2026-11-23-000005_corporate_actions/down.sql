DROP TABLE corporate_actions;
