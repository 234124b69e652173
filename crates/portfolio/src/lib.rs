//! bourse-portfolio
