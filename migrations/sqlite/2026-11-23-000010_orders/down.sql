DROP TABLE positions;
DROP TABLE fills;
DROP TABLE orders;
