-- One database per instance of docker-compose.portal.yml.
CREATE DATABASE staffroom_portal;
CREATE DATABASE staffroom_a;
CREATE DATABASE staffroom_b;
